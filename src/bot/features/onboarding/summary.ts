/**
 * The summary and "I agree": what is shown is what is signed — insurers that can no longer be
 * chosen are dropped first, only the newest summary's buttons act, and the button goes only once
 * the agreement is stored.
 */
import { toPreferences } from "../../../domain/draft.js";
import { formatVerificationCode } from "../../../domain/verification-code.js";
import type { BotContext } from "../../context.js";
import type { BotDeps } from "../../deps.js";
import {
  formatChannels,
  formatDays,
  formatHours,
  formatList,
  formatLocal,
  formatPeriod,
  formatZoneName,
  languageOf,
} from "../../format.js";
import { contactKeyboard, summaryKeyboard } from "../../keyboards.js";
import type { OnboardingKit } from "./kit.js";
import { nameOfId, optOutLines, renderNote } from "./words.js";

export function createSummary(
  deps: BotDeps,
  kit: OnboardingKit,
): Pick<OnboardingKit, "dropUnchoosable" | "showSummary" | "isOldSummary" | "agree"> {
  const { owners } = deps;

  /**
   * Drops chosen insurers that can no longer be chosen (one lost its contact line since), with
   * the reason; when none is left, the insurers question is open again. True when it dropped any.
   */
  async function dropUnchoosable(ctx: BotContext): Promise<boolean> {
    const chosen = ctx.session.draft.insurers ?? [];
    if (chosen.length === 0) return false;
    const directory = await kit.directoryOf(ctx);
    const gone = chosen.filter((id) => !directory.some((i) => i.id === id && i.choosable));
    if (gone.length === 0) return false;
    const insurers = chosen.filter((id) => !gone.includes(id));
    const { insurers: _old, ...rest } = ctx.session.draft;
    ctx.session.draft = insurers.length > 0 ? { ...rest, insurers } : rest;
    await ctx.reply(
      gone
        .map((id) =>
          renderNote(ctx, { kind: "insurer_not_choosable", insurer: id, name: nameOfId(directory, id) }),
        )
        .join("\n"),
    );
    return true;
  }

  async function showSummary(ctx: BotContext) {
    const t = ctx.t;
    if (await kit.dropUnchoosable(ctx)) return kit.advance(ctx);
    const prefs = toPreferences(ctx.session.draft);
    if (!prefs) return kit.advance(ctx);
    const pack = kit.packOf(ctx);
    const directory = await kit.directoryOf(ctx);
    const chosen = directory.filter((i) => prefs.insurers.includes(i.id));
    const lines = [t("summary-title"), "", t("summary-renewal", { date: prefs.renewalDate })];
    if (chosen.length === 0) {
      lines.push(t("summary-nobody"));
    } else {
      const perDay = pack.maxAttemptsPerDay.value;
      lines.push(
        t("summary-insurers", {
          names: formatList(
            t,
            chosen.map((i) => i.name),
          ),
        }),
        t("summary-how", {
          channels: formatChannels(t, prefs.channels),
          days: formatDays(t, prefs.days),
          hours: formatHours(t, prefs.hours),
          zone: formatZoneName(t, ctx.owner.timezone),
        }),
        t("summary-when", {
          daysBefore: prefs.daysBefore,
          attempts: prefs.maxAttempts,
          perDay: perDay !== null && perDay < prefs.maxAttempts ? perDay : 0,
        }),
      );
      const shared = [t("shared-phone"), t("shared-renewal")];
      if (ctx.owner.vehicle) shared.push(t("shared-vehicle", { vehicle: ctx.owner.vehicle }));
      if (ctx.owner.name && prefs.shareName) shared.push(t("shared-name", { name: ctx.owner.name }));
      lines.push(t("summary-shared", { details: formatList(t, shared), count: chosen.length }));
      const period =
        pack.optOutDays.value === null ? t("period-until-withdrawn") : formatPeriod(t, pack.optOutDays.value);
      lines.push(t("summary-others", { period }));
    }
    const language = languageOf(t);
    const consentTexts = chosen.map(
      (insurer) =>
        `${t("summary-consent-heading", { insurer: insurer.name })}\n${owners.consentTextFor(
          ctx.owner,
          insurer,
          prefs,
          language,
        )}`,
    );
    const text = [lines.join("\n"), ...consentTexts].join("\n\n");
    // Only the newest summary can be agreed to: the previous one loses its buttons, and its
    // "I agree" is answered as outdated (it showed other choices).
    const previous = ctx.session.summaryMessageId;
    if (previous !== undefined && ctx.chat)
      await ctx.api.editMessageReplyMarkup(ctx.chat.id, previous).catch(() => undefined);
    if (text.length > 4000) for (const consent of consentTexts) await ctx.reply(consent.slice(0, 4000));
    // Offered only when there is a name to share and someone to share it with.
    const name =
      chosen.length > 0 && ctx.owner.name
        ? { name: ctx.owner.name, shared: prefs.shareName === true }
        : undefined;
    const sent = await ctx.reply(text.length <= 4000 ? text : lines.join("\n"), {
      reply_markup: summaryKeyboard(t, name),
    });
    ctx.session.summaryMessageId = sent.message_id;
    ctx.session.summaryLanguage = language;
  }

  /** A button of a summary that a newer one replaced: answered as outdated (it showed other choices). */
  async function isOldSummary(ctx: BotContext): Promise<boolean> {
    const from = ctx.callbackQuery?.message?.message_id;
    if (ctx.session.summaryMessageId === undefined || from === ctx.session.summaryMessageId) return false;
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t("summary-outdated"));
    return true;
  }

  async function agree(ctx: BotContext) {
    const t = ctx.t;
    // Agreed to as shown: an insurer that lost its contact line since is dropped, and asked about.
    if (await kit.dropUnchoosable(ctx)) return kit.advance(ctx);
    const prefs = toPreferences(ctx.session.draft);
    if (!prefs) return kit.advance(ctx);
    if (prefs.insurers.length > 0 && !ctx.owner.phoneVerified) {
      await ctx.reply(t("agree-needs-verified"), { reply_markup: contactKeyboard(t) });
      ctx.session.step = "phone";
      return;
    }
    // The consent text signed is the one the owner read, in the language it was shown in. The
    // button goes only once the agreement is stored: a store that cannot write leaves it there.
    const { changeset } = await owners.agree(
      ctx.owner.id,
      prefs,
      ctx.session.summaryLanguage ?? languageOf(t),
    );
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    const directory = await kit.directoryOf(ctx);
    const nameOf = (id: string) => nameOfId(directory, id);
    const lines = [t("agreed")];
    for (const w of changeset.windows) {
      lines.push(
        "",
        t("agreed-window", {
          insurer: nameOf(w.insurerId),
          opens: formatLocal(w.opensAt, w.timezone),
          closes: formatLocal(w.closesAt, w.timezone),
          zone: formatZoneName(t, w.timezone),
          code: formatVerificationCode(w.verificationCode),
        }),
        t("agreed-receipt", { receipt: w.receiptId }),
      );
    }
    if (changeset.windows.length === 0) lines.push(t("agreed-nobody"));
    lines.push(
      "",
      ...optOutLines(
        ctx,
        directory,
        changeset.optOuts.map((o) => o.insurerId),
      ),
    );
    ctx.session.step = "idle";
    ctx.session.draft = {};
    ctx.session.pick = undefined;
    ctx.session.editing = undefined;
    ctx.session.summaryMessageId = undefined;
    ctx.session.summaryLanguage = undefined;
    ctx.session.oneOf = undefined;
    // A "Yes, I renewed" asked before this agreement must not close the windows it opens.
    ctx.session.renewedAsked = undefined;
    await ctx.reply(lines.join("\n"));
  }

  return { dropUnchoosable, showSummary, isOldSummary, agree };
}
