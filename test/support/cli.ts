/** Runs the real `onewindow` command as a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(ROOT, "bin/onewindow.js");

/** A clean environment: nothing from the developer's shell or .env leaks into a test. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `onewindow <args>` to completion. `cwd` defaults to a directory without a .env. */
export function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `onewindow serve`; resolves once it logs that HTTP is listening. */
export function startServe(
  env: Record<string, string>,
  cwd: string,
): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  const child = spawn(process.execPath, [BIN, "serve"], {
    env: cleanEnv({ LOG_LEVEL: "info", ...env }),
    cwd,
  });
  return whenListening(child, "serve");
}

/**
 * Resolves with the service's URL once `child` logs that HTTP is listening (20 s at most);
 * rejects, with what it printed, if it exits first. `output()` keeps collecting afterwards.
 */
export function whenListening(
  child: ChildProcess,
  name: string,
): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += d;
      const m = output.match(/"url":"(http:[^"]+)"[^\n]*"http listening"/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, output: () => output, url: m[1]! });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
}

/** Sends a signal and waits for the process to exit. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.removeAllListeners("exit");
    child.on("exit", (code) => resolve(code));
    child.kill(signal);
  });
}

/**
 * `onewindow insurer add <id> --webhook <receiver>` as the operator runs it, then hands the
 * printed webhook secret to the receiver so it can check signatures. Returns the credentials.
 */
export async function addInsurerWithWebhook(
  env: Record<string, string>,
  cwd: string,
  insurer: { id: string; name: string },
  receiver: { url: string; setSecret(secret: string): void },
): Promise<{ id: string; apiKey: string; webhookSecret: string }> {
  const r = await runCli(
    [
      "insurer",
      "add",
      insurer.id,
      "--name",
      insurer.name,
      "--webhook",
      receiver.url,
      "--contact",
      `${insurer.name} 95500`,
    ],
    env,
    cwd,
  );
  if (r.code !== 0) throw new Error(`insurer add ${insurer.id} exited ${r.code}: ${r.stderr}`);
  const created = JSON.parse(r.stdout) as { id: string; apiKey: string; webhookSecret: string };
  receiver.setSecret(created.webhookSecret);
  return created;
}
