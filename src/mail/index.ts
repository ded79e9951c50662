export * from "./errors.ts";
export * from "./message.ts";
export * from "./smtp.ts";
export * from "./pop3.ts";
export * from "./classic.ts";
export * from "./codec/index.ts";
