// The simulated network's bytes over real Node sockets: TCP to the configured servers and the
// modem's TLS client (node:tls), certificates checked against the modem's CAs only.

import { isIP, Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import type { ByteStream, Connector, PendingStream, TlsClientParams } from "./network.ts";

/** How long a politely ended socket may take to finish before it is destroyed. */
const END_GRACE_MS = 1000;

class SocketStream implements ByteStream {
  readonly socket: Socket;
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: (() => void) | null = null;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.onData?.(chunk));
    // Failures surface as "close" (and through write callbacks); an unheard "error" would throw.
    socket.on("error", () => {});
    socket.on("close", () => this.onClose?.());
  }

  write(bytes: Uint8Array, done?: (error: Error | null) => void): void {
    this.socket.write(bytes, (error) => done?.(error ?? null));
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    const socket = this.socket;
    socket.end();
    setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const nodeSockets: Connector = {
  open(address: string, port: number): PendingStream {
    const socket = new Socket();
    const stream = new SocketStream(socket);
    const ready = new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      socket.once("error", failed);
      socket.connect(port, address, () => {
        socket.off("error", failed);
        resolve();
      });
    });
    return { stream, ready };
  },

  secure(plain: ByteStream, params: TlsClientParams): PendingStream<string> {
    if (!(plain instanceof SocketStream)) throw new TypeError("node sockets can only secure their own streams");
    const secure: TLSSocket = tlsConnect({
      socket: plain.socket,
      // An array, even an empty one, replaces Node's root store: only the modem's CAs count.
      ca: params.ca,
      minVersion: params.versions.min,
      maxVersion: params.versions.max,
      servername: isIP(params.name) === 0 ? params.name : undefined,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(params.name, cert),
    });
    const stream = new SocketStream(secure);
    const ready = new Promise<string>((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      secure.once("error", failed);
      secure.once("secureConnect", () => {
        secure.off("error", failed);
        resolve(secure.getProtocol() ?? "TLS");
      });
    });
    return { stream, ready };
  },
};
