/** What the onboarding says about a patch, a note, or the opt-outs just filed. */
import type { DraftNote } from "../../../domain/draft.js";
import type { Draft, PreferencePatch } from "../../../domain/preferences.js";
import type { BotContext } from "../../context.js";
import type { ChatInsurer } from "../../directory.js";
import { formatChannels, formatDays, formatHours, formatList } from "../../format.js";

export function describePatch(
  ctx: BotContext,
  patch: PreferencePatch,
  draft: Draft,
  nameOf: (id: string) => string,
): string {
  const t = ctx.t;
  const parts: string[] = [];
  if (patch.renewalDate && draft.renewalDate === patch.renewalDate) parts.push(draft.renewalDate);
  if (patch.nobody && draft.nobody) parts.push(t("button-nobody"));
  if (patch.insurers && draft.insurers?.length) parts.push(formatList(t, draft.insurers.map(nameOf)));
  if (patch.channels && draft.channels) parts.push(formatChannels(t, draft.channels));
  else if (patch.withoutChannels && !draft.nobody)
    parts.push(t("understood-without", { channels: formatChannels(t, patch.withoutChannels) }));
  if (patch.days && draft.days) parts.push(formatDays(t, draft.days));
  if (patch.hours && draft.hours) parts.push(formatHours(t, draft.hours));
  if (patch.daysBefore !== undefined && draft.daysBefore !== undefined)
    parts.push(t("days-count", { n: draft.daysBefore }));
  if (patch.maxAttempts !== undefined && draft.maxAttempts !== undefined)
    parts.push(t("understood-attempts", { n: draft.maxAttempts }));
  return parts.join(" · ");
}

/**
 * What the confirmation says about the opt-outs just filed, as it is at that moment (DESIGN
 * §7): each is on the insurer's pull feed at once; those with a push endpoint are being sent,
 * and /status tells when each arrives. Nothing is called delivered before it is.
 */
export function optOutLines(
  ctx: BotContext,
  directory: readonly ChatInsurer[],
  insurerIds: readonly string[],
): string[] {
  const t = ctx.t;
  if (insurerIds.length === 0) return [t("agreed-optouts-none")];
  const filed = insurerIds.map((id) => directory.find((i) => i.id === id));
  const pushed = filed.filter((i) => i?.webhookUrl && !i.webhookDisabledAt);
  const feedOnly = filed.filter((i) => i && !pushed.includes(i));
  const names = (list: typeof filed) =>
    formatList(
      t,
      list.map((i) => i?.name ?? "?"),
    );
  const lines = [t("agreed-optouts", { count: insurerIds.length })];
  if (pushed.length > 0)
    lines.push(t("agreed-optouts-sending", { names: names(pushed), count: pushed.length }));
  if (feedOnly.length > 0)
    lines.push(t("agreed-optouts-feed", { names: names(feedOnly), count: feedOnly.length }));
  lines.push(t("agreed-optouts-status"));
  return lines;
}

export function nameOfId(directory: readonly ChatInsurer[], id: string): string {
  return directory.find((i) => i.id === id)?.name ?? id;
}

export function renderNote(ctx: BotContext, note: DraftNote): string {
  const t = ctx.t;
  switch (note.kind) {
    case "date_past":
      return t("note-date-past", { date: note.date });
    case "date_too_far":
      return t("note-date-too-far", { date: note.date });
    case "insurer_unknown":
      return t("note-unknown-insurer", { name: note.insurer });
    case "insurer_not_choosable":
      return t("note-insurer-not-choosable", { name: note.name });
    case "channels_none_left":
      return t("note-channels-none-left", { channels: formatChannels(t, note.refused) });
    case "hours_clipped":
      return t("note-hours-clipped", { ...hoursVars(note) });
    case "hours_outside":
      return t("note-hours-dropped", { ...hoursVars(note) });
    case "days_before_negative":
      return t("not-understood", { example: t("example-days-before") });
    case "days_before_clipped":
      return t("note-days-before-clipped", { max: note.max });
    case "attempts_invalid":
      return t("not-understood", { example: t("example-attempts") });
    case "attempts_clipped":
      return t("note-attempts-clipped", { max: note.max });
  }
}

function hoursVars(note: { from: string; to: string; allowed: { from: string; to: string } }) {
  return { from: note.from, to: note.to, allowed: `${note.allowed.from}–${note.allowed.to}` };
}
