/**
 * The sandbox (DESIGN §3, §9; issue 6): with no bot token, the real bot runs behind an
 * in-process Telegram transport and a browser page plays the Telegram client; an insurer
 * console drives the real insurer API with each sandbox insurer's own key; each sandbox insurer
 * gets a loopback webhook receiver on the same server. Everything here answers loopback peers
 * only, its owners and insurers are sandbox data, and a sandbox owner only ever sees (and
 * notifies) sandbox insurers.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Bot } from "grammy";
import { Hono } from "hono";
import { ZodError } from "zod";
import type { BotContext } from "../bot/context.js";
import { botI18n, createBot, registerCommands } from "../bot/create-bot.js";
import type { BotDeps } from "../bot/deps.js";
import type { Insurer, Owner } from "../domain/model.js";
import { createExtractor } from "../nlu/create-extractor.js";
import type { Extractor } from "../nlu/extractor.js";
import type { Services } from "../services/create-services.js";
import { createInsurerService, WebhookUrlError } from "../services/insurer-service.js";
import { createOwnerNotifier } from "../services/owner-notifier.js";
import { DuplicateError, type Store } from "../store/store.js";
import { DEMO_INSURERS, isDemoInsurer } from "./demo.js";
import { loopbackOnly, type SandboxEnv } from "./loopback.js";
import { createHookReceiver, type HookReceiver } from "./receiver.js";
import {
  createSandboxTransport,
  SANDBOX_BOT_INFO,
  SANDBOX_TOKEN,
  type SandboxTransport,
  type SandboxUser,
} from "./transport.js";

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "public");
const STATIC_FILES: Record<string, string> = {
  "chat.js": "text/javascript; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
  "common.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** Sandbox Telegram user ids start far above any real one, so a shared store never mixes them up. */
export const SANDBOX_USER_ID_BASE = 2 ** 50;
const OWNERS_META = "sandbox.owners";
/** How long a page's long poll is held open. */
const LONG_POLL_MS = 10_000;
const NOTIFY_INTERVAL_MS = 2_000;

export interface SandboxDeps {
  services: Services;
  /** Counts bot updates and errors for /metrics, like the production bot. */
  metrics?: BotDeps["metrics"];
  /** Defaults to the configured extractor (rules, or the LLM when configured). */
  extractor?: Extractor;
  /** Long-poll hold time (tests shorten it). */
  longPollMs?: number;
}

export interface Sandbox {
  /** Mount with `app.route("/", sandbox.app)` before the server starts. */
  app: Hono<SandboxEnv>;
  bot: Bot<BotContext>;
  transport: SandboxTransport;
  receiver: HookReceiver;
  /**
   * Binds the sandbox to the server's base URL: seeds the demo directory when the directory is
   * empty, points each sandbox insurer's webhook at its receiver and issues it a fresh API key
   * (kept in this process's memory for the console), registers the bot's commands.
   */
  start(baseUrl: string): Promise<{ demoCreated: boolean }>;
  /** Stops the notifier and releases waiting long polls. */
  stop(): void;
  /** The API key of a sandbox insurer (issued by `start` or by the console). */
  apiKeyOf(insurerId: string): string | undefined;
}

interface OwnerEntry {
  id: number;
  firstName: string;
  languageCode: "en" | "zh";
}

const FIRST_NAMES = ["Lin", "Wei", "Mei", "Jun", "Ana", "Sam", "Li", "Yan"];

export async function createSandbox(deps: SandboxDeps): Promise<Sandbox> {
  const { services } = deps;
  const { store, logger, config } = services;
  const longPollMs = deps.longPollMs ?? LONG_POLL_MS;
  const transport = createSandboxTransport(SANDBOX_BOT_INFO);
  const receiver = createHookReceiver(store, 100, services.clock);
  // Registration of sandbox insurers allows their loopback receiver URL (they are sandbox data);
  // the operator's ALLOW_PRIVATE_WEBHOOKS still governs every other insurer.
  const sandboxInsurers = createInsurerService({
    store,
    owners: services.owners,
    clock: services.clock,
    allowPrivateWebhooks: true,
  });
  const apiKeys = new Map<string, string>();
  let baseUrl: string | undefined;
  let notifierTimer: NodeJS.Timeout | undefined;

  const bot = createBot(
    {
      token: SANDBOX_TOKEN,
      botInfo: SANDBOX_BOT_INFO,
      fetch: transport.fetch as unknown as NonNullable<Parameters<typeof createBot>[0]["fetch"]>,
    },
    {
      store,
      owners: services.owners,
      extractor: deps.extractor ?? createExtractor({ openai: config.openai, logger }),
      clock: services.clock,
      defaults: { jurisdiction: config.jurisdiction, timezone: config.defaultTimezone, sandbox: true },
      logger,
      metrics: deps.metrics,
    },
  );
  await bot.init();

  // --- owners (simulated Telegram users) -------------------------------------------------------

  const readOwners = async (): Promise<OwnerEntry[]> => {
    const raw = await store.getMeta(OWNERS_META);
    return raw ? (JSON.parse(raw) as OwnerEntry[]) : [];
  };
  const writeOwners = (list: OwnerEntry[]) => store.setMeta(OWNERS_META, JSON.stringify(list));
  let ownersLock: Promise<unknown> = Promise.resolve();
  const withOwners = <T>(fn: (list: OwnerEntry[]) => Promise<T>): Promise<T> => {
    const run = ownersLock.then(async () => fn(await readOwners()));
    ownersLock = run.catch(() => undefined);
    return run;
  };
  const sandboxUser = (entry: OwnerEntry): SandboxUser => ({
    id: entry.id,
    firstName: entry.firstName,
    languageCode: entry.languageCode,
  });
  /** The entry for a chat id, only if the sandbox made it and its stored owner is sandbox data. */
  const ownerEntry = async (id: number): Promise<OwnerEntry | undefined> => {
    const entry = (await readOwners()).find((o) => o.id === id);
    if (!entry) return undefined;
    const owner = await store.getOwnerByTelegramId(id);
    return owner && !owner.sandbox ? undefined : entry;
  };
  const sandboxOwners = async (): Promise<Owner[]> => {
    const owners: Owner[] = [];
    for (const entry of await readOwners()) {
      const owner = await store.getOwnerByTelegramId(entry.id);
      if (owner?.sandbox) owners.push(owner);
    }
    return owners;
  };

  // --- insurers ----------------------------------------------------------------------------------

  const hookUrl = (insurerId: string) => `${baseUrl}/sandbox/hooks/${insurerId}`;
  const activeSandboxInsurers = async (): Promise<Insurer[]> =>
    (await store.listInsurers()).filter((i) => i.sandbox && !i.removedAt);

  // --- owner notifier: acknowledgement digests etc. for sandbox owners only ----------------------

  const sandboxOwnerIds = new Map<string, boolean>();
  const isSandboxOwner = async (ownerId: string) => {
    let known = sandboxOwnerIds.get(ownerId);
    if (known === undefined) {
      known = (await store.getOwner(ownerId))?.sandbox === true;
      sandboxOwnerIds.set(ownerId, known);
    }
    return known;
  };
  const keepSandbox = async <T extends { ownerId?: string }>(items: T[]): Promise<T[]> => {
    const out: T[] = [];
    for (const item of items) if (item.ownerId && (await isSandboxOwner(item.ownerId))) out.push(item);
    return out;
  };
  // The notifier sees only sandbox owners' notices: a real owner's digest is never consumed here.
  const sandboxStore = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "pendingAckNotices")
        return async (limit: number) => keepSandbox(await target.pendingAckNotices(limit));
      if (prop === "windowsAwaitingAckReminder")
        return async (a: string, b: string, limit: number) =>
          keepSandbox(await target.windowsAwaitingAckReminder(a, b, limit));
      if (prop === "pendingOwnerNotices")
        return async (limit: number) => keepSandbox(await target.pendingOwnerNotices(limit));
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  const notifier = createOwnerNotifier({
    store: sandboxStore,
    clock: services.clock,
    i18n: botI18n(),
    send: async (chatId, text) => {
      await bot.api.sendMessage(chatId, text);
    },
    logger,
  });
  let notifying: Promise<unknown> = Promise.resolve();
  const notifyNow = () => {
    notifying = notifying
      .then(() => notifier.runOnce())
      .catch((err: unknown) =>
        logger.warn({ err: err instanceof Error ? err.name : "unknown" }, "sandbox owner notifier failed"),
      );
    return notifying;
  };

  // --- HTTP ------------------------------------------------------------------------------------

  const app = new Hono<SandboxEnv>();
  const guard = loopbackOnly({ trustProxy: config.trustProxy });
  const machineGuard = loopbackOnly({ machine: true, trustProxy: config.trustProxy });
  const page = (file: string) => () =>
    new Response(fs.readFileSync(path.join(PUBLIC_DIR, file)), {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy":
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
      },
    });
  const fail = (status: 400 | 404 | 409, code: string, message: string) =>
    new Response(JSON.stringify({ error: { code, message } }), {
      status,
      headers: { "content-type": "application/json" },
    });
  const readJson = async (req: Request): Promise<Record<string, unknown> | undefined> => {
    try {
      const body = (await req.json()) as unknown;
      return typeof body === "object" && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  };
  const chatIdParam = (raw: string) => (/^\d{1,16}$/.test(raw) ? Number(raw) : undefined);

  app.get("/", guard, page("chat.html"));
  app.get("/console", guard, page("console.html"));
  app.get("/sandbox/static/:file", guard, (c) => {
    const file = c.req.param("file");
    const type = STATIC_FILES[file];
    if (!type) return fail(404, "not_found", "no such file");
    return new Response(fs.readFileSync(path.join(PUBLIC_DIR, file)), {
      headers: { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" },
    });
  });

  // A window's stop link in the sandbox (main.ts): opens the web chat as the window's owner,
  // which sends `/start stop_<token>` — what tapping the deep link does in Telegram.
  app.get("/sandbox/stop/:token", guard, async (c) => {
    const token = c.req.param("token");
    if (!/^[A-Za-z0-9_-]{1,58}$/.test(token)) return fail(404, "not_found", "no such stop link");
    const window = await store.findWindowByStopToken(token);
    const owner = window?.ownerId ? await store.getOwner(window.ownerId) : undefined;
    const entry = owner?.sandbox ? await ownerEntry(owner.telegramUserId) : undefined;
    return c.redirect(`/?start=stop_${token}${entry ? `#owner-${entry.id}` : ""}`, 302);
  });

  app.get("/sandbox/api/state", guard, async (c) => {
    const owners = await readOwners();
    return c.json({
      bot: { username: SANDBOX_BOT_INFO.username, name: SANDBOX_BOT_INFO.first_name },
      owners,
      commands: { en: transport.commands(""), zh: transport.commands("zh") },
    });
  });

  app.post("/sandbox/api/owners", guard, async (c) => {
    const body = (await readJson(c.req.raw)) ?? {};
    const languageCode = body.languageCode === "zh" ? "zh" : "en";
    const entry = await withOwners(async (list) => {
      const next = list.reduce((max, o) => Math.max(max, o.id), SANDBOX_USER_ID_BASE) + 1;
      const requested = typeof body.firstName === "string" ? body.firstName.trim().slice(0, 40) : "";
      const firstName = requested || `${FIRST_NAMES[list.length % FIRST_NAMES.length]} ${list.length + 1}`;
      const created: OwnerEntry = { id: next, firstName, languageCode };
      await writeOwners([...list, created]);
      return created;
    });
    return c.json(entry, 201);
  });

  app.post("/sandbox/api/owners/:id/language", guard, async (c) => {
    const id = chatIdParam(c.req.param("id"));
    const body = await readJson(c.req.raw);
    if (id === undefined || !body || (body.languageCode !== "en" && body.languageCode !== "zh")) {
      return fail(400, "bad_request", 'languageCode must be "en" or "zh"');
    }
    const languageCode = body.languageCode;
    const updated = await withOwners(async (list) => {
      const entry = list.find((o) => o.id === id);
      if (!entry) return undefined;
      entry.languageCode = languageCode;
      await writeOwners(list);
      return entry;
    });
    return updated ? c.json(updated) : fail(404, "not_found", "no such sandbox owner");
  });

  app.get("/sandbox/api/chats/:id", guard, async (c) => {
    const id = chatIdParam(c.req.param("id"));
    if (id === undefined || !(await ownerEntry(id))) return fail(404, "not_found", "no such sandbox chat");
    const since = Number(c.req.query("since") ?? "-1");
    const snapshot = Number.isFinite(since)
      ? await transport.waitForChange(id, since, longPollMs, c.req.raw.signal)
      : transport.snapshot(id);
    return c.json(snapshot);
  });

  app.post("/sandbox/api/chats/:id/updates", guard, async (c) => {
    const id = chatIdParam(c.req.param("id"));
    const entry = id === undefined ? undefined : await ownerEntry(id);
    if (!entry) return fail(404, "not_found", "no such sandbox chat");
    const body = await readJson(c.req.raw);
    if (!body)
      return fail(400, "bad_request", "send {text} or {contact:{phone}} or {press:{messageId,data}}");
    const user = sandboxUser(entry);
    let update: Parameters<typeof bot.handleUpdate>[0];
    if (typeof body.text === "string") {
      const text = body.text.trim();
      if (text === "" || text.length > 4096)
        return fail(400, "bad_request", "text must be 1-4096 characters");
      update = transport.text(user, text);
    } else if (typeof body.contact === "object" && body.contact !== null) {
      const phone = String((body.contact as { phone?: unknown }).phone ?? "").replace(/[\s()-]/g, "");
      if (!/^\+?\d{6,15}$/.test(phone))
        return fail(400, "bad_phone", "a phone number like +86 138 1234 5678");
      update = transport.contact(user, phone);
    } else if (typeof body.press === "object" && body.press !== null) {
      const { messageId, data } = body.press as { messageId?: unknown; data?: unknown };
      if (typeof messageId !== "number" || typeof data !== "string") {
        return fail(400, "bad_request", "press needs messageId and data");
      }
      try {
        update = transport.press(user, messageId, data);
      } catch (err) {
        return fail(409, "stale_button", err instanceof Error ? err.message : "stale button");
      }
    } else {
      return fail(400, "bad_request", "send {text} or {contact:{phone}} or {press:{messageId,data}}");
    }
    await bot.handleUpdate(update);
    return c.json(transport.snapshot(user.id));
  });

  app.get("/sandbox/api/files/:fileId", guard, (c) => {
    const file = transport.file(c.req.param("fileId"));
    if (!file) return fail(404, "not_found", "no such file");
    return new Response(new Uint8Array(file.bytes), {
      headers: {
        "content-type": file.mimeType,
        "content-disposition": `attachment; filename="${file.fileName.replace(/[^\w.-]/g, "_")}"`,
        "x-content-type-options": "nosniff",
      },
    });
  });

  const insurerView = (i: Insurer) => ({
    id: i.id,
    name: i.name,
    nameZh: i.nameZh ?? null,
    aliases: i.aliases,
    contact: i.contact ?? null,
    demo: isDemoInsurer(i.id),
    webhookUrl: i.webhookUrl ?? null,
    webhookDisabled: i.webhookDisabledAt !== undefined,
    apiKey: apiKeys.get(i.id) ?? null,
  });

  app.get("/sandbox/api/insurers", guard, async (c) => {
    const all = await store.listInsurers();
    return c.json({
      insurers: all.filter((i) => i.sandbox && !i.removedAt).map(insurerView),
      // Real insurers exist in this directory but are out of the sandbox's reach.
      hiddenRealInsurers: all.filter((i) => !i.sandbox && !i.removedAt).length,
    });
  });

  app.post("/sandbox/api/insurers", guard, async (c) => {
    if (!baseUrl) return fail(409, "not_ready", "the sandbox is starting");
    const body = await readJson(c.req.raw);
    if (!body) return fail(400, "bad_request", "send {id, name, aliases?, contact?}");
    const aliases = Array.isArray(body.aliases)
      ? body.aliases.filter((a): a is string => typeof a === "string" && a.trim() !== "")
      : typeof body.aliases === "string"
        ? body.aliases
            .split(",")
            .map((a) => a.trim())
            .filter(Boolean)
        : [];
    const id = typeof body.id === "string" ? body.id.trim() : body.id;
    try {
      const created = await sandboxInsurers.add({
        id: id as string,
        name: body.name as string,
        aliases,
        ...(typeof body.contact === "string" && body.contact.trim() ? { contact: body.contact } : {}),
        webhookUrl: hookUrl(String(id)),
        sandbox: true,
      });
      apiKeys.set(created.id, created.apiKey);
      const insurer = await store.getInsurer(created.id);
      // The credentials, as `onewindow insurer add` prints them (shown once; the key is stored hashed).
      return c.json(
        {
          insurer: insurer ? insurerView(insurer) : null,
          credentials: { id: created.id, apiKey: created.apiKey, webhookSecret: created.webhookSecret },
          backfilled: created.backfilled,
        },
        201,
      );
    } catch (err) {
      if (err instanceof ZodError) {
        return fail(
          400,
          "validation_failed",
          err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        );
      }
      if (err instanceof DuplicateError)
        return fail(409, "duplicate", `an insurer with id ${String(id)} exists`);
      if (err instanceof WebhookUrlError) return fail(400, "bad_webhook", err.message);
      throw err;
    }
  });

  app.get("/sandbox/api/insurers/:id/deliveries", guard, async (c) => {
    const id = c.req.param("id");
    const insurer = await store.getInsurer(id);
    if (!insurer?.sandbox) return fail(404, "not_found", "no such sandbox insurer");
    const outbox = [];
    for (const owner of await sandboxOwners()) {
      for (const e of await store.listOutboxForOwner(owner.id)) {
        if (e.insurerId !== id) continue;
        outbox.push({
          id: e.id,
          webhookId: e.webhookId,
          type: e.type,
          subjectId: e.subjectId,
          state: e.state,
          attempts: e.attempts,
          createdAt: e.createdAt,
          dueAt: e.dueAt,
          nextAttemptAt: e.state === "pending" ? (e.nextAttemptAt ?? e.dueAt) : null,
          deliveredAt: e.deliveredAt ?? null,
          lastError: e.lastError ?? null,
          dead: e.state === "dead",
        });
      }
    }
    outbox.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return c.json({ received: receiver.list(id), outbox });
  });

  // Nudges the owner notifier after a console action (an acknowledgement reaches the owner now).
  app.post("/sandbox/api/notify", guard, async (c) => {
    await notifyNow();
    return c.json({ ok: true });
  });

  app.post("/sandbox/hooks/:id", machineGuard, async (c) => {
    const raw = await c.req.text();
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const status = await receiver.receive(c.req.param("id"), raw, headers);
    return status === 204 ? c.body(null, 204) : fail(status === 404 ? 404 : 400, "rejected", "not accepted");
  });

  return {
    app,
    bot,
    transport,
    receiver,
    apiKeyOf: (id) => apiKeys.get(id),
    async start(url) {
      baseUrl = url.replace(/\/$/, "");
      await registerCommands(bot);
      let demoCreated = false;
      if ((await store.listInsurers()).length === 0) {
        for (const demo of DEMO_INSURERS) {
          const created = await sandboxInsurers.add({
            ...demo,
            aliases: [...demo.aliases],
            webhookUrl: hookUrl(demo.id),
            sandbox: true,
          });
          apiKeys.set(created.id, created.apiKey);
        }
        demoCreated = true;
      }
      for (const insurer of await activeSandboxInsurers()) {
        if (insurer.webhookUrl !== hookUrl(insurer.id)) {
          await sandboxInsurers.update(insurer.id, { webhookUrl: hookUrl(insurer.id) });
        }
        // Keys are shown once and stored hashed: a restarted sandbox issues its insurers new ones.
        if (!apiKeys.has(insurer.id))
          apiKeys.set(insurer.id, (await sandboxInsurers.rotateKey(insurer.id)).apiKey);
      }
      notifierTimer = setInterval(() => void notifyNow(), NOTIFY_INTERVAL_MS);
      notifierTimer.unref();
      return { demoCreated };
    },
    stop() {
      if (notifierTimer) clearInterval(notifierTimer);
      notifierTimer = undefined;
      transport.wakeAll();
    },
  };
}
