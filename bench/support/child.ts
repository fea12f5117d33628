/** Forking a bench helper (a .ts file, through the same tsx loader) and talking to it over IPC. */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Child {
  proc: ChildProcess;
  send(msg: unknown): void;
  /** The next message of this type. */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export function forkHelper(name: string, args: string[]): Child {
  const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
  // execArgv is inherited: under `npx tsx`, the child loads TypeScript the same way.
  const proc = fork(file, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting = new Map<string, ((msg: Record<string, unknown>) => void)[]>();
  const early = new Map<string, Record<string, unknown>[]>();
  proc.on("message", (msg: Record<string, unknown>) => {
    const type = String(msg.type);
    const w = waiting.get(type)?.shift();
    if (w) w(msg);
    else early.set(type, [...(early.get(type) ?? []), msg]);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  // A child that already disconnected makes a late send fail with EPIPE: nothing to do then.
  proc.on("error", () => undefined);
  return {
    proc,
    send: (msg) => proc.send(msg as never),
    next<T>(type: string, timeoutMs = 600_000) {
      const queued = early.get(type)?.shift();
      if (queued) return Promise.resolve(queued as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name}: no "${type}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
        // A wait nobody needs any more (the losing side of a race) must not keep the process up.
        timer.unref();
        const onExit = () => {
          clearTimeout(timer);
          reject(new Error(`${name} exited before "${type}"`));
        };
        proc.once("exit", onExit);
        waiting.set(type, [
          ...(waiting.get(type) ?? []),
          (msg) => {
            clearTimeout(timer);
            proc.off("exit", onExit);
            resolve(msg as T);
          },
        ]);
      });
    },
    async close() {
      if (proc.exitCode === null && proc.connected) {
        try {
          proc.send({ type: "close" });
        } catch {
          // already going away
        }
      }
      const timer = setTimeout(() => proc.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
