/**
 * What the bot tells an owner without being asked (DESIGN §7):
 * - one digest per owner of the acknowledgements insurers made since the last run ("PICC
 *   acknowledged your opt-out, CPIC acknowledged your opt-out"), never one message each;
 * - once per window, a reminder when the chosen insurer has not acknowledged an open window
 *   within 72 hours, so the owner can pick another;
 * - one message per queued owner notice (e.g. "You refused PICC on a call, so they are now told
 *   not to contact you until …"), written by the changeset that filed what it announces.
 *
 * Each is marked as told only after the message went out: a failed send is tried again on the
 * next run. A chat that can never receive it (the owner blocked the bot, the chat is gone) is
 * marked as told too, so it is not retried forever. Logs carry counts and ids only.
 */
import type { Logger } from "pino";
import { formatLocal } from "../bot/format.js";
import { insurerName } from "../domain/insurer-name.js";
import type { Insurer, Language, Owner, OwnerNotice } from "../domain/model.js";
import { activeOptOut } from "../domain/plans.js";
import type { AckNotice, Store } from "../store/store.js";

/** The translation function of the bot's I18n instance (`botI18n().t`). */
export interface Translator {
  t(locale: string, key: string, variables?: Record<string, string | number>): string;
}

export interface OwnerNotifierDeps {
  store: Store;
  clock: () => Date;
  i18n: Translator;
  /** Sends one plain-text message to a chat, e.g. `bot.api.sendMessage(chatId, text)`. */
  send: (chatId: number, text: string) => Promise<void>;
  logger: Logger;
  /** Most acknowledgements and most windows read per run; default 1000 each. */
  batchSize?: number;
}

export interface OwnerNotifierRun {
  /** Digest messages sent (one per owner). */
  digests: number;
  /** 72-hour reminders sent (one per window). */
  reminders: number;
  /** Owner notices sent (one message per notice). */
  notices: number;
}

export const ACK_REMINDER_AFTER_MS = 72 * 3_600_000;
/** Telegram's limit for one text message. */
export const MAX_MESSAGE = 4096;
/** Most ids listed in one summary log line. */
const LOGGED_IDS = 50;

export function createOwnerNotifier(deps: OwnerNotifierDeps) {
  const { store, clock, i18n, send, logger } = deps;
  const batchSize = deps.batchSize ?? 1000;

  /** Insurer names in the owner's language (`--name-zh` in Chinese), looked up once a run. */
  function makeNames() {
    const insurers = new Map<string, Insurer | undefined>();
    return async (insurerId: string, lang: Language): Promise<string> => {
      if (!insurers.has(insurerId)) insurers.set(insurerId, await store.getInsurer(insurerId));
      const insurer = insurers.get(insurerId);
      return insurer ? insurerName(insurer, lang) : insurerId;
    };
  }

  /** Sends; "sent" or "gone" (never deliverable: mark as told) or "failed" (try again later). */
  async function deliver(owner: Owner, text: string, what: string, id: string) {
    try {
      await send(owner.chatId, text);
      return "sent" as const;
    } catch (err) {
      const gone = isPermanent(err);
      logger.warn({ ownerId: owner.id, id, error: describe(err), gone }, `owner ${what} not sent`);
      return gone ? ("gone" as const) : ("failed" as const);
    }
  }

  async function digests(
    now: Date,
    nameOf: (id: string, lang: Language) => Promise<string>,
  ): Promise<number> {
    const notices = await store.pendingAckNotices(batchSize);
    const byOwner = new Map<string, AckNotice[]>();
    for (const n of notices) {
      const list = byOwner.get(n.ownerId);
      if (list) list.push(n);
      else byOwner.set(n.ownerId, [n]);
    }
    let sent = 0;
    let failed = 0;
    for (const [ownerId, list] of byOwner) {
      const owner = await store.getOwner(ownerId);
      const at = now.toISOString();
      if (!owner || owner.deletedAt) {
        // Nobody left to tell.
        await store.markAckNoticesSent(list, at);
        continue;
      }
      const lang = language(owner);
      const lines: string[] = [];
      for (const n of list) {
        lines.push(
          i18n.t(lang, n.kind === "window" ? "ack-digest-window" : "ack-digest-optout", {
            insurer: await nameOf(n.insurerId, lang),
            at: formatLocal(n.acknowledgedAt, owner.timezone),
          }),
        );
      }
      const text = fitLines(i18n.t(lang, "ack-digest-title"), lines, (n) => i18n.t(lang, "list-more", { n }));
      const outcome = await deliver(owner, text, "ack digest", ownerId);
      if (outcome === "failed") {
        failed++;
        continue;
      }
      await store.markAckNoticesSent(list, at);
      if (outcome === "sent") sent++;
    }
    if (notices.length > 0) {
      logger.info({ notices: notices.length, owners: byOwner.size, sent, failed }, "ack digests");
    }
    return sent;
  }

  async function reminders(
    now: Date,
    nameOf: (id: string, lang: Language) => Promise<string>,
  ): Promise<number> {
    const cutoff = new Date(now.getTime() - ACK_REMINDER_AFTER_MS).toISOString();
    const windows = await store.windowsAwaitingAckReminder(cutoff, now.toISOString(), batchSize);
    let sent = 0;
    let failed = 0;
    const remindedIds: string[] = [];
    for (const w of windows) {
      const owner = await store.getOwner(w.ownerId);
      if (!owner || owner.deletedAt) {
        await store.markAckReminderSent(w.id, now.toISOString());
        continue;
      }
      const lang = language(owner);
      const text = i18n.t(lang, "ack-reminder", { insurer: await nameOf(w.insurerId, lang) });
      const outcome = await deliver(owner, text, "ack reminder", w.id);
      if (outcome === "failed") {
        failed++;
        continue;
      }
      await store.markAckReminderSent(w.id, now.toISOString());
      if (outcome === "sent") {
        sent++;
        remindedIds.push(w.id);
      }
    }
    if (windows.length > 0) {
      logger.info(
        { windows: windows.length, sent, failed, windowIds: remindedIds.slice(0, LOGGED_IDS) },
        "ack reminders",
      );
    }
    return sent;
  }

  /** The text of one notice, or undefined when it no longer holds (the owner has since withdrawn). */
  async function noticeText(
    owner: Owner,
    notice: OwnerNotice,
    now: Date,
    nameOf: (id: string, lang: Language) => Promise<string>,
  ) {
    const state = await store.getOwnerState(owner.id);
    const optOut = activeOptOut(state, notice.insurerId, now, state.owner.phoneHash);
    if (!optOut) return undefined;
    const lang = language(owner);
    const insurer = await nameOf(notice.insurerId, lang);
    return optOut.until
      ? i18n.t(lang, "refused-on-call", {
          insurer,
          until: formatLocal(optOut.until, owner.timezone).slice(0, 10),
        })
      : i18n.t(lang, "refused-on-call-forever", { insurer });
  }

  async function ownerNotices(
    now: Date,
    nameOf: (id: string, lang: Language) => Promise<string>,
  ): Promise<number> {
    const notices = await store.pendingOwnerNotices(batchSize);
    let sent = 0;
    let failed = 0;
    let stale = 0;
    const at = now.toISOString();
    for (const notice of notices) {
      const owner = await store.getOwner(notice.ownerId);
      const text = owner && !owner.deletedAt ? await noticeText(owner, notice, now, nameOf) : undefined;
      if (!owner || !text) {
        // Nobody left to tell, or the owner's later word replaced it.
        stale++;
        await store.markOwnerNoticesSent([notice.id], at);
        continue;
      }
      const outcome = await deliver(owner, text, "notice", notice.id);
      if (outcome === "failed") {
        failed++;
        continue;
      }
      await store.markOwnerNoticesSent([notice.id], at);
      if (outcome === "sent") sent++;
    }
    if (notices.length > 0) {
      logger.info({ notices: notices.length, sent, failed, stale }, "owner notices");
    }
    return sent;
  }

  return {
    /** One pass: digests, reminders, then notices. Run from one process: there is no lease, so two concurrent runs could both send. */
    async runOnce(): Promise<OwnerNotifierRun> {
      const now = clock();
      const nameOf = makeNames();
      return {
        digests: await digests(now, nameOf),
        reminders: await reminders(now, nameOf),
        notices: await ownerNotices(now, nameOf),
      };
    },
  };
}

export type OwnerNotifier = ReturnType<typeof createOwnerNotifier>;

function language(owner: Owner): Language {
  return owner.language === "zh" ? "zh" : "en";
}

/**
 * A title and lines joined under `max` characters (Telegram's 4096 by default): lines that do
 * not fit are replaced by "…and N more".
 */
export function fitLines(
  title: string,
  lines: readonly string[],
  more: (n: number) => string,
  max = MAX_MESSAGE,
): string {
  const all = [title, ...lines].join("\n");
  if (all.length <= max) return all;
  const kept = [title];
  let length = title.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const tail = more(lines.length - i - 1);
    if (length + 1 + line.length + 1 + tail.length > max) {
      kept.push(more(lines.length - i));
      break;
    }
    kept.push(line);
    length += 1 + line.length;
  }
  return kept.join("\n");
}

/** Telegram answered that this chat can never receive messages from the bot. */
function isPermanent(err: unknown): boolean {
  const e = err as { error_code?: unknown; description?: unknown };
  if (e?.error_code === 403) return true;
  return e?.error_code === 400 && typeof e.description === "string" && /chat not found/i.test(e.description);
}

/** An error for the log: Telegram's code, or the error's class — never a message that could hold text. */
function describe(err: unknown): string {
  const e = err as { error_code?: unknown; name?: unknown };
  if (typeof e?.error_code === "number") return `telegram ${e.error_code}`;
  return typeof e?.name === "string" ? e.name : "unknown";
}
