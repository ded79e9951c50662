// One mail through the modem, with the simmail core (module "simmail", from manifest_core.json).
import config from "mc/config";
import { AtEngine, Modem, deviceTimers, openMailDialect, openModemSerial, probeEmail } from "simmail";

async function sendOne() {
  const uart = config.modemDevice !== ""
    ? { device: config.modemDevice, baud: Number(config.modemBaud) }
    : { port: Number(config.modemUart), receive: Number(config.modemReceive), transmit: Number(config.modemTransmit), baud: Number(config.modemBaud) };
  const port = openModemSerial(uart);
  const engine = new AtEngine({ serial: port.serial, timers: deviceTimers });
  port.listen(engine);
  const modem = new Modem(engine, deviceTimers);
  await modem.sync();
  const mail = openMailDialect(await probeEmail(engine, "sim7000"), modem, deviceTimers);
  await mail.openBearer({ cid: 1, apn: config.apn });
  const server = { host: config.smtpHost, port: Number(config.smtpPort), ...(config.smtpUser !== "" ? { user: config.smtpUser, password: config.smtpPassword } : {}) };
  await mail.send({ server, cid: 1, timeoutSeconds: 30 }, {
    from: { address: config.mailFrom }, to: [{ address: config.mailTo }], subject: "Hello from Moddable", body: "Sent with the simmail core.",
  });
  trace("send-one: sent\n");
  mail.close();
  modem.close();
  engine.close();
  port.close();
}

// The runtime calls the default export; the work runs there, not in the module body.
export default function main() {
  sendOne().catch((error) => trace(`send-one: failed: ${error.message}\n`));
}
