/**
 * What one message says (DESIGN §8): its intent first, then — for `preferences` only — the
 * preference patch, and for a report or a stop what the text settles about it. One schema for
 * both extractors; `onewindow parse` prints it.
 */
import { z } from "zod";
import { CalendarDate, PreferencePatch } from "../domain/preferences.js";

/** What the owner is doing with a message. Only `preferences` may change a draft. */
export const INTENTS = ["preferences", "report", "renewed", "stop", "question", "other"] as const;
export const Intent = z.enum(INTENTS);
export type Intent = z.infer<typeof Intent>;

/** How a reported contact came: a channel, or something else (a WeChat message, a visit). */
export const ReportChannel = z.enum(["call", "sms", "telegram", "email", "other"]);
export type ReportChannel = z.infer<typeof ReportChannel>;

/** A clock time, "HH:MM" (24 h). */
const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM");

/**
 * A contact that already happened, as far as the text settles it. `insurer` is a directory id
 * (the company the caller was or claimed to be); `insurerName` a name not in the directory.
 */
export const ReportReading = z
  .object({
    insurer: z.string().min(1).optional(),
    insurerName: z.string().min(1).max(80).optional(),
    channel: ReportChannel.optional(),
    date: CalendarDate.optional(),
    time: Time.optional(),
    /** The digits the caller quoted, separators removed. */
    code: z
      .string()
      .regex(/^\d{3,8}$/)
      .optional(),
    /** The owner had refused, stopped or opted out of this caller before. */
    afterRefusal: z.literal(true).optional(),
  })
  .strict();
export type ReportReading = z.infer<typeof ReportReading>;

/** Whom the owner asks to stop: named directory insurers (and names not in it), or everyone. */
export const StopReading = z.union([
  z
    .object({
      insurers: z.array(z.string().min(1)),
      unknown: z.array(z.string().min(1).max(80)).min(1).optional(),
    })
    .strict(),
  z.object({ everyone: z.literal(true) }).strict(),
]);
export type StopReading = z.infer<typeof StopReading>;

/** A part of a name that fits several insurers ("Acme" for "Acme Life" and "Acme General"). */
export const AmbiguousName = z.object({ text: z.string(), candidates: z.array(z.string()).min(2) }).strict();
export type AmbiguousName = z.infer<typeof AmbiguousName>;

/**
 * One message's reading. For every intent but `preferences` the patch is `{}`; `report` only
 * with the report intent, `stop` only with the stop intent. `ambiguous` lists insurer names
 * that fit several directory entries, so the bot can ask which one was meant.
 */
export const Reading = z
  .object({
    intent: Intent,
    patch: PreferencePatch,
    report: ReportReading.optional(),
    stop: StopReading.optional(),
    ambiguous: z.array(AmbiguousName).min(1).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.intent !== "preferences" && Object.keys(r.patch).length > 0)
      ctx.addIssue({ code: "custom", path: ["patch"], message: `a ${r.intent} message carries no patch` });
    if (r.report !== undefined && r.intent !== "report")
      ctx.addIssue({ code: "custom", path: ["report"], message: "report only with the report intent" });
    if (r.stop !== undefined && r.intent !== "stop")
      ctx.addIssue({ code: "custom", path: ["stop"], message: "stop only with the stop intent" });
  });
export type Reading = z.infer<typeof Reading>;

/** A reading that asks nothing and changes nothing. */
export const OTHER: Reading = { intent: "other", patch: {} };
