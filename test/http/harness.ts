/**
 * The insurer API in-process (`app.request`) on a real SQLite store in a temp dir, with a
 * controllable clock, a seeded directory, and owners created through the real owner service.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import type { Preferences } from "../../src/domain/preferences.js";
import { createHttpApp, type HttpDeps } from "../../src/http/create-http-app.js";
import { createLogger } from "../../src/logger.js";
import { createServices, type Services } from "../../src/services/create-services.js";
import type { InsurerCredentials } from "../../src/services/insurer-service.js";

export const DIRECTORY = [
  { id: "pingan", name: "Ping An", aliases: ["平安"], contact: "95511" },
  { id: "picc", name: "PICC", aliases: ["人保"], contact: "95518" },
  { id: "cpic", name: "CPIC", aliases: ["太平洋"], contact: "95500" },
];

/** Wednesday 2026-07-01, 18:30 in Shanghai. */
export const T0 = new Date("2026-07-01T10:30:00.000Z");

export interface OwnerInput extends Partial<Preferences> {
  phone: string;
  name?: string;
  vehicle?: string;
  timezone?: string;
}

export async function startApi(options: { now?: Date; env?: Record<string, string> } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-http-"));
  let now = options.now ?? T0;
  const clock = () => now;
  const config = loadConfig({
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
    SCRUB_RATE: "1000/1000",
    ...options.env,
  });
  const services: Services = await createServices(config, createLogger("silent"), clock);
  const creds: Record<string, InsurerCredentials> = {};
  for (const i of DIRECTORY) creds[i.id] = await services.insurers.add({ ...i });
  const app = createHttpApp(services);
  let telegramId = 5000;

  /** An owner with a verified phone who agreed to `insurers` (default: Ping An). */
  async function owner(input: OwnerInput) {
    const id = telegramId++;
    const created = await services.store.ensureOwner({
      telegramUserId: id,
      chatId: id,
      language: "en",
      timezone: input.timezone ?? "Asia/Shanghai",
      jurisdiction: "CN",
      sandbox: false,
    });
    await services.store.updateOwnerProfile(created.id, {
      phone: input.phone,
      phoneVerified: true,
      country: "CN",
      ...(input.name ? { name: input.name } : {}),
      ...(input.vehicle ? { vehicle: input.vehicle } : {}),
    });
    const prefs: Preferences = {
      renewalDate: input.renewalDate ?? "2026-07-31",
      insurers: input.insurers ?? ["pingan"],
      channels: input.channels ?? ["call", "sms"],
      days: input.days ?? ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      hours: input.hours ?? [{ from: "09:00", to: "20:00" }],
      daysBefore: input.daysBefore ?? 40,
      maxAttempts: input.maxAttempts ?? 5,
      // A test owner given a name chose to share it on the summary.
      ...(input.name ? { shareName: true } : {}),
    };
    await services.owners.agree(created.id, prefs, "en");
    return services.store.getOwnerState(created.id);
  }

  /** A request as `insurer` (or unauthenticated with `null`). */
  function call(
    insurer: string | null,
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const h: Record<string, string> = { ...headers };
    if (insurer) h.authorization = `Bearer ${creds[insurer]!.apiKey}`;
    if (body !== undefined && h["content-type"] === undefined) h["content-type"] = "application/json";
    return app.request(url, {
      method,
      headers: h,
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
  }

  async function json(
    insurer: string | null,
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const res = await call(insurer, method, url, body, headers);
    // biome-ignore lint/suspicious/noExplicitAny: test convenience over varied response shapes
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  }

  /** Another app on the same store with different dependencies (quotas, metrics token). */
  function appWith(overrides: Partial<HttpDeps>) {
    return createHttpApp({ ...services, ...overrides });
  }

  return {
    dir,
    app,
    services,
    creds,
    owner,
    call,
    json,
    appWith,
    now: () => now,
    setNow(d: Date) {
      now = d;
    },
    async close() {
      await services.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Api = Awaited<ReturnType<typeof startApi>>;
