import type { Reading } from "./reading.js";

/** An insurer as the language understanding sees it: its id, display name and other names. */
export interface DirectoryEntry {
  id: string;
  name: string;
  aliases: string[];
}

/** One message to read, with what is needed to resolve it. */
export interface ExtractInput {
  text: string;
  /** A hint only: both languages are always read, since owners mix them. */
  lang?: "en" | "zh";
  /** The owner's local calendar date, "YYYY-MM-DD": relative dates resolve against it. */
  today: string;
  directory: DirectoryEntry[];
}

/**
 * Text → {@link Reading} (DESIGN §8): the message's intent, and for `preferences` the patch of
 * the fields it settles (only those), for a report or a stop what it settles about them.
 */
export interface Extractor {
  /** Which extractor produced the reading, as `onewindow parse` reports it. */
  name: "rules" | "llm";
  /** Reads one message; never rejects for text it does not understand (that is `other`). */
  read(input: ExtractInput): Promise<Reading>;
}
