export * from "./errors.ts";
export { checkAddress, checkBody, checkHost, checkPort, checkSubject, checkText, DEFAULT_LIMITS } from "./message.ts";
export type { Address, Attachment, ByteSource, EmailLimits, MailMessage, ServerAccount } from "./message.ts";
export * from "./smtp.ts";
export * from "./pop3.ts";
export * from "./classic.ts";
export * from "./codec/index.ts";
export * from "./security.ts";
