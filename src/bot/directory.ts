/**
 * The insurer directory as one owner reads it in the chat: each insurer under the name of the
 * chat's language (`--name-zh` in Chinese), every other name it has kept as an alias so the
 * owner can still type it, and which of them can be chosen for consent — only one with a
 * contact line (DESIGN §3), though every one can be stopped or reported.
 */
import { insurerName, insurerNames } from "../domain/insurer-name.js";
import type { Insurer, Language } from "../domain/model.js";
import type { BotContext } from "./context.js";
import type { BotDeps } from "./deps.js";
import { languageOf } from "./format.js";

/** A directory entry for the chat: `name` is the display name; `choosable` whether consent may name it. */
export type ChatInsurer = Insurer & { choosable: boolean };

export function localise(insurer: Insurer, language: Language): ChatInsurer {
  const name = insurerName(insurer, language);
  return {
    ...insurer,
    name,
    aliases: insurerNames(insurer).filter((n) => n !== name),
    choosable: Boolean(insurer.contact?.trim()),
  };
}

/** The owner's directory (sandbox owners see sandbox insurers only), in the chat's language. */
export async function chatDirectory(ctx: BotContext, deps: Pick<BotDeps, "owners">): Promise<ChatInsurer[]> {
  const language = languageOf(ctx.t);
  return (await deps.owners.directoryFor(ctx.owner)).map((i) => localise(i, language));
}

/** One insurer's display name, also for one no longer in the directory. */
export async function chatInsurerName(
  ctx: BotContext,
  deps: Pick<BotDeps, "store">,
  insurerId: string,
): Promise<string> {
  const insurer = await deps.store.getInsurer(insurerId);
  return insurer ? insurerName(insurer, languageOf(ctx.t)) : insurerId;
}
