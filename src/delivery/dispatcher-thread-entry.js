// The dispatcher thread's entry point. Plain JavaScript on purpose: a worker thread does not
// inherit the TypeScript loader of its parent (tsx, vitest), so it registers tsx first.
import { register } from "tsx/esm/api";

register();
await import("./dispatcher-thread-main.ts");
