// `mc/config` for the host-side type check of the test files bundled with moddable-stand-ins.ts
// (src/device itself is checked against @moddable/typings by tsconfig.device.json).
declare module "mc/config" {
  const config: Record<string, unknown>;
  export default config;
}
