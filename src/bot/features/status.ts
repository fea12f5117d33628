import { Composer } from "grammy";
import type { ContactWindow, OptOut, OutboxEntry } from "../../domain/model.js";
import { activeOptOut } from "../../domain/plans.js";
import { formatVerificationCode } from "../../domain/verification-code.js";
import { windowStatus } from "../../domain/window-plan.js";
import { fitLines, MAX_MESSAGE } from "../../services/owner-notifier.js";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { chatDirectory, chatInsurerName } from "../directory.js";
import { formatLocal, formatZoneName } from "../format.js";

/** Scrub hits are kept, and shown, for 13 months (DESIGN §7). */
const HITS_MONTHS = 13;
const KNOWN_ANSWERS = new Set(["consented", "do_not_contact", "match_key"]);

type T = BotContext["t"];

/**
 * /status: per insurer, its window or opt-out, whether the notice arrived (from the outbox)
 * and when the insurer acknowledged it; then who checked the owner's number, and when.
 */
export function createStatusFeature(deps: BotDeps) {
  const feature = new Composer<BotContext>();
  feature.command("status", async (ctx) => {
    const t = ctx.t;
    const ownerId = ctx.owner.id;
    const state = await deps.store.getOwnerState(ownerId);
    const now = deps.clock();
    if (!state.consent && state.optOuts.length === 0) {
      await ctx.reply(t("status-none"));
      return;
    }
    const tz = state.owner.timezone;
    const directory = await chatDirectory(ctx, deps);
    // The latest notice about each window or opt-out (the list is oldest first).
    const latest = new Map<string, OutboxEntry>();
    for (const entry of await deps.store.listOutboxForOwner(ownerId)) latest.set(entry.subjectId, entry);
    const pushes = new Map(directory.map((i) => [i.id, Boolean(i.webhookUrl && !i.webhookDisabledAt)]));
    const delivery = (item: ContactWindow | OptOut) =>
      deliveryText(t, item, latest.get(item.id), now, tz, pushes.get(item.insurerId) ?? false);

    const lines: string[] = [];
    if (state.consent) lines.push(t("status-title", { date: state.consent.preferences.renewalDate }), "");
    for (const insurer of directory) {
      const window = state.windows.filter((w) => w.insurerId === insurer.id && !w.revokedAt).at(-1);
      const optOut = activeOptOut(state, insurer.id, now, state.owner.phoneHash);
      if (window && !optOut) {
        lines.push(
          t("status-window", {
            insurer: insurer.name,
            state: t(`window-state-${windowStatus(window, now)}`),
            // In the zone it was agreed in: a move since changes it only at the next "I agree".
            opens: formatLocal(window.opensAt, window.timezone),
            closes: formatLocal(window.closesAt, window.timezone),
            zone: formatZoneName(t, window.timezone),
            code: formatVerificationCode(window.verificationCode),
            used: window.attemptsUsed,
            max: window.maxAttempts,
            delivery: delivery(window),
          }),
        );
      } else if (optOut) {
        const vars = {
          insurer: insurer.name,
          reason: t(`reason-${optOut.reason}`),
          delivery: delivery(optOut),
        };
        lines.push(
          optOut.until
            ? t("status-optout", { ...vars, until: formatLocal(optOut.until, tz).slice(0, 10) })
            : t("status-optout-forever", vars),
        );
      }
    }

    // Who checked the owner's number (scrub and match-key hits), newest first.
    const since = new Date(now.getTime());
    since.setUTCMonth(since.getUTCMonth() - HITS_MONTHS);
    const hits = await deps.store.listScrubHits(ownerId, since.toISOString());
    const names = new Map(directory.map((i) => [i.id, i.name]));
    const nameOf = async (id: string) => {
      let name = names.get(id);
      if (name === undefined) {
        name = await chatInsurerName(ctx, deps, id);
        names.set(id, name);
      }
      return name;
    };
    const hitLines: string[] = [];
    for (const hit of hits) {
      hitLines.push(
        t("status-check", {
          insurer: await nameOf(hit.insurerId),
          at: formatLocal(hit.at, tz),
          answer: KNOWN_ANSWERS.has(hit.answer) ? t(`status-check-answer-${hit.answer}`) : hit.answer,
        }),
      );
    }
    const more = (n: number) => t("list-more", { n });
    const head = lines.length > 0 ? fitLines(lines[0] ?? "", lines.slice(1), more) : "";
    const checksTitle = t("status-checks-title");
    const checks =
      hitLines.length === 0
        ? `${checksTitle}\n${t("status-checks-none")}`
        : fitLines(checksTitle, hitLines, more, Math.max(MAX_MESSAGE - head.length - 2, 1024));
    // One message when both fit, else the insurers and the checks apart (each under the limit).
    if (!head) {
      await ctx.reply(checks);
    } else if (head.length + 2 + checks.length <= MAX_MESSAGE) {
      await ctx.reply(`${head}\n\n${checks}`);
    } else {
      await ctx.reply(head);
      await ctx.reply(hitLines.length === 0 ? checks : fitLines(checksTitle, hitLines, more));
    }
  });
  return feature;
}

/**
 * ", delivered 2026-12-01 10:00, acknowledged 2026-12-02 09:15": how the notice about a window
 * or opt-out fared, from its latest outbox entry, as it is (DESIGN §7): delivered, on the
 * insurer's pull feed only (no push endpoint), being sent, retrying, or failed for good (then
 * it is still on the pull feed). A notice not yet due (a scheduled window) says nothing.
 */
function deliveryText(
  t: T,
  item: ContactWindow | OptOut,
  entry: OutboxEntry | undefined,
  now: Date,
  tz: string,
  /** The insurer has a push endpoint; without one a notice due is on its pull feed at once. */
  pushed: boolean,
): string {
  let push = "";
  if (entry) {
    if (entry.state === "delivered") {
      push = entry.deliveredAt
        ? t("status-delivery-delivered-at", { at: formatLocal(entry.deliveredAt, tz) })
        : t("status-delivery-delivered");
    } else if (entry.state === "skipped") {
      push = t("status-delivery-feed");
    } else if (entry.state === "dead") {
      push = t("status-delivery-dead");
    } else if (entry.attempts > 0) {
      push = t("status-delivery-retrying", { attempts: entry.attempts });
    } else if (Date.parse(entry.dueAt) <= now.getTime()) {
      push = t(pushed ? "status-delivery-pending" : "status-delivery-feed");
    }
  } else if ("deliveredAt" in item && item.deliveredAt) {
    push = t("status-delivery-delivered-at", { at: formatLocal(item.deliveredAt, tz) });
  }
  if (!item.acknowledgedAt) return push;
  const acked = t("status-delivery-acknowledged", { at: formatLocal(item.acknowledgedAt, tz) });
  // Once acknowledged, a push still retrying or failed no longer matters.
  return entry?.state === "delivered" || entry?.state === "skipped" || (!entry && push)
    ? `${push}${acked}`
    : acked;
}
