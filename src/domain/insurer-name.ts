/**
 * The name an owner reads for an insurer: its Chinese name (`insurer add --name-zh`) in the
 * Chinese chat, else its name. Pure, so the consent text the owner reads and the one whose hash
 * is signed are rendered from the same name.
 */
import type { Language } from "./model.js";

export interface NamedInsurer {
  name: string;
  nameZh?: string;
}

export function insurerName(insurer: NamedInsurer, language: Language): string {
  return language === "zh" && insurer.nameZh ? insurer.nameZh : insurer.name;
}

/** Every name an owner may type for an insurer, whatever the chat's language. */
export function insurerNames(insurer: NamedInsurer & { aliases: readonly string[] }): string[] {
  return [...new Set([insurer.name, ...(insurer.nameZh ? [insurer.nameZh] : []), ...insurer.aliases])];
}
