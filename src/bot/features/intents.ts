/**
 * What the bot does with a message that is not a statement of preferences (DESIGN §8): a
 * report, a renewal, a stop, a question, or anything else. None of these changes a draft, a
 * summary or a consent: each answers, and offers a button where an action would follow (a
 * stop, a renewal), so nothing happens without a tap.
 */
import { randomBytes } from "node:crypto";
import { InlineKeyboard } from "grammy";
import { activeOptOut } from "../../domain/plans.js";
import { packFor } from "../../domain/policy-packs.js";
import type { Reading } from "../../nlu/reading.js";
import { suggestInsurers } from "../../nlu/suggest.js";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { chatDirectory } from "../directory.js";
import { formatList } from "../format.js";

/** The complaint bodies of the owner's pack, as one line (DESIGN §7). */
export function complaintBodies(ctx: BotContext): string {
  return ctx.t(`complain-${packFor(ctx.owner.jurisdiction).code}`);
}

/** /report until the report flow exists: what to note down, and where to complain. */
export async function replyReportHelp(ctx: BotContext): Promise<void> {
  await ctx.reply(ctx.t("report-help", { bodies: complaintBodies(ctx) }));
}

/**
 * Answers a non-preferences reading. Returns after replying; the caller decides whether to
 * ask the open question again.
 */
export async function answerIntent(ctx: BotContext, reading: Reading, deps: BotDeps): Promise<void> {
  switch (reading.intent) {
    case "report": {
      const directory = await chatDirectory(ctx, deps);
      const named = reading.report?.insurer
        ? directory.find((i) => i.id === reading.report?.insurer)?.name
        : reading.report?.insurerName;
      await ctx.reply(named ? ctx.t("report-intent-named", { insurer: named }) : ctx.t("report-intent"));
      return replyReportHelp(ctx);
    }
    case "renewed":
      return askRenewed(ctx);
    case "stop":
      return offerStop(ctx, reading, deps);
    case "question":
      await ctx.reply(ctx.t("question-answer"));
      return;
    case "other":
    case "preferences":
      return;
  }
}

/** "I already renewed" closes windows and files opt-outs: asked once, done on the tap. */
export async function askRenewed(ctx: BotContext): Promise<void> {
  if (!ctx.owner.phone) {
    await ctx.reply(ctx.t(ctx.session.step === "idle" ? "status-none" : "needs-phone-first"));
    return;
  }
  // The buttons carry a nonce: only the newest question's "Yes" acts, and agreeing forgets it.
  const nonce = randomBytes(4).toString("hex");
  ctx.session.renewedAsked = nonce;
  const kb = new InlineKeyboard()
    .text(ctx.t("button-renewed-yes"), `rn:yes:${nonce}`)
    .text(ctx.t("button-cancel"), `rn:no:${nonce}`);
  await ctx.reply(ctx.t("renewed-ask"), { reply_markup: kb });
}

/**
 * The one-tap stop for the insurers a message named; "did you mean" for names not in the
 * directory; one button per insurer a name could mean. "Everyone" is offered only when the
 * message named nobody, so a stop never reaches the insurer a message keeps.
 */
async function offerStop(ctx: BotContext, reading: Reading, deps: BotDeps): Promise<void> {
  if (!ctx.owner.phone) {
    await ctx.reply(ctx.t(ctx.session.step === "idle" ? "status-none" : "needs-phone-first"));
    return;
  }
  const stop = reading.stop ?? { everyone: true as const };
  const kb = new InlineKeyboard();
  // Buttons offered from a message carry the consent they were offered under: once the owner
  // agrees anew, an old "Stop PICC" is outdated and cannot revoke the new window.
  const consent = (await deps.store.getOwnerState(ctx.owner.id)).consent;
  const mark = consentMarkOf(consent?.id);
  const stopButton = (id: string, label: string) => kb.text(label, `stop:${id}:${mark}`).row();
  if ("everyone" in stop) {
    stopButton("all", ctx.t("button-stop-everyone"));
    await ctx.reply(ctx.t("stop-intent-everyone"), { reply_markup: kb });
    return;
  }
  const directory = await chatDirectory(ctx, deps);
  const state = await deps.store.getOwnerState(ctx.owner.id);
  const now = deps.clock();
  const lines: string[] = [];
  const named = directory.filter((i) => stop.insurers.includes(i.id));
  const alreadyStopped = named.filter((i) => activeOptOut(state, i.id, now, state.owner.phoneHash));
  for (const i of named) if (!alreadyStopped.includes(i)) stopButton(i.id, `🛑 ${i.name}`);
  if (alreadyStopped.length > 0)
    lines.push(
      ctx.t("stop-intent-already", {
        insurers: formatList(
          ctx.t,
          alreadyStopped.map((i) => i.name),
        ),
      }),
    );
  const offered = new Set(named.map((i) => i.id));
  for (const name of stop.unknown ?? []) {
    const guesses = suggestInsurers(name, directory).filter((g) => !offered.has(g.id));
    if (guesses.length === 0) {
      lines.push(ctx.t("stop-intent-unknown", { name }));
      continue;
    }
    lines.push(ctx.t("stop-intent-did-you-mean", { name }));
    for (const g of guesses) {
      offered.add(g.id);
      stopButton(g.id, `🛑 ${g.name}?`);
    }
  }
  for (const a of reading.ambiguous ?? []) {
    lines.push(ctx.t("ambiguous-insurer", { name: a.text }));
    for (const id of a.candidates) {
      const insurer = directory.find((i) => i.id === id);
      if (insurer && !offered.has(id)) {
        offered.add(id);
        stopButton(id, `🛑 ${insurer.name}`);
      }
    }
  }
  const buttons = offered.size - alreadyStopped.length > 0;
  if (buttons) lines.unshift(ctx.t("stop-intent-ask"));
  const nothingNamed = named.length === 0 && !reading.ambiguous;
  if (nothingNamed) stopButton("all", ctx.t("button-stop-everyone"));
  const text = lines.join("\n") || ctx.t("stop-intent-ask");
  await ctx.reply(text, buttons || nothingNamed ? { reply_markup: kb } : {});
}

/** A short mark of a consent id (or "0" for none), small enough for callback data. */
export function consentMarkOf(consentId: string | undefined): string {
  return consentId ? consentId.replace(/-/g, "").slice(-8) : "0";
}

/** A short reply for `other`: where the owner is, and what they can do. */
export async function replyOther(ctx: BotContext, hasConsent: boolean): Promise<void> {
  const step = ctx.session.step;
  if (step !== "idle") await ctx.reply(ctx.t("other-in-flow"));
  else await ctx.reply(ctx.t(hasConsent ? "other-idle-consent" : "other-idle-new"));
}
