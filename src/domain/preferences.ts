import { z } from "zod";

/** Ways an insurer may reach the owner. */
export const Channel = z.enum(["call", "sms", "telegram", "email"]);
export type Channel = z.infer<typeof Channel>;
export const CHANNELS: readonly Channel[] = Channel.options;

/** Days of the week, Monday first (ISO order). */
export const Weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
export type Weekday = z.infer<typeof Weekday>;
export const WEEKDAYS: readonly Weekday[] = Weekday.options;

/** Local wall-clock time, 24-hour "HH:MM"; "24:00" means end of day. */
export const ClockTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, "expected HH:MM");
export type ClockTime = z.infer<typeof ClockTime>;

/** A calendar date "YYYY-MM-DD" (no time, no zone). */
export const CalendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");
export type CalendarDate = z.infer<typeof CalendarDate>;

/** An hour range as read from text: either end may be missing ("after 6pm"). */
export const OpenHourRange = z.object({ from: ClockTime.optional(), to: ClockTime.optional() }).strict();
export type OpenHourRange = z.infer<typeof OpenHourRange>;

/** A closed hour range, `from` < `to`, in the owner's local time. */
export const HourRange = z.object({ from: ClockTime, to: ClockTime }).strict();
export type HourRange = z.infer<typeof HourRange>;

/**
 * What one message (or one button) settles — DESIGN §8. Only the fields the input settles are
 * present; nothing is clipped to a policy pack yet. Both extractors (rules, LLM) produce this.
 */
export const PreferencePatch = z
  .object({
    renewalDate: CalendarDate.optional(),
    insurers: z.array(z.string().min(1)).optional(),
    nobody: z.literal(true).optional(),
    channels: z.array(Channel).min(1).optional(),
    /** Channels a negation takes away from those already chosen ("don't call me"); adds none. */
    withoutChannels: z.array(Channel).min(1).optional(),
    days: z.array(Weekday).min(1).optional(),
    hours: z.array(OpenHourRange).min(1).optional(),
    daysBefore: z.number().int().optional(),
    maxAttempts: z.number().int().min(1).optional(),
  })
  .strict();
export type PreferencePatch = z.infer<typeof PreferencePatch>;

/**
 * Everything an owner must settle before the summary can be agreed to, after domain validation
 * (dates in range, insurers resolved, hours clipped to the pack). `insurers` empty means nobody.
 */
export const Preferences = z
  .object({
    renewalDate: CalendarDate,
    insurers: z.array(z.string().min(1)),
    channels: z.array(Channel).min(1),
    days: z.array(Weekday).min(1),
    hours: z.array(HourRange).min(1),
    daysBefore: z.number().int().min(0),
    maxAttempts: z.number().int().min(1),
    /** The owner chose to let the insurer see their name (absent: the name is not shared). */
    shareName: z.boolean().optional(),
  })
  .strict();
export type Preferences = z.infer<typeof Preferences>;

/** The draft the bot fills step by step; every field optional until the summary. */
export const Draft = z
  .object({
    renewalDate: CalendarDate.optional(),
    insurers: z.array(z.string()).optional(),
    nobody: z.boolean().optional(),
    channels: z.array(Channel).optional(),
    /** Channels refused before any was chosen: the channel question starts without them. */
    refusedChannels: z.array(Channel).optional(),
    days: z.array(Weekday).optional(),
    hours: z.array(HourRange).optional(),
    daysBefore: z.number().int().optional(),
    maxAttempts: z.number().int().optional(),
    shareName: z.boolean().optional(),
  })
  .strict();
export type Draft = z.infer<typeof Draft>;
