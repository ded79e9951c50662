/** The device's stack in slots: manifest.json `creation.stack`, else mcconfig's default (384). */
export function deviceStackSlots(): number;
/** Path of the xsnap worker that reads its stack size from SIMMAIL_XS_STACK, built first when missing. */
export function deviceXsnapWorker(): string;
