/**
 * The one small command layer the Redis store runs on. Two clients implement it: ioredis
 * (TCP, single server or Cluster) and @upstash/redis (REST). The store only ever sends plain
 * commands and Lua scripts, and reads back strings, integers, nulls and arrays of those.
 */
import { createHash } from "node:crypto";

/** A Lua script, sent by SHA1 (EVALSHA) and by source only when the server lacks it. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** Declares a script; `name` only helps error messages. */
export function luaScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/** A command argument; a Buffer only where the client carries bytes ({@link RedisCommands.binary}). */
export type Arg = string | number | Buffer;

/** One command or one script call inside a {@link RedisCommands.pipeline}. */
export type RedisCall = { args: Arg[] } | { script: LuaScript; keys: string[]; args: Arg[] };

export interface RedisCommands {
  /** Runs a script atomically; every key it touches is in `keys` and shares one hash tag. */
  eval(script: LuaScript, keys: string[], args: Arg[]): Promise<unknown>;
  /** Runs one command, e.g. `call("HGET", key, field)`. */
  call(...args: [string, ...Arg[]]): Promise<unknown>;
  /**
   * Runs independent calls together (one round trip where the client can; on a Cluster,
   * each call goes to its own node). Results come in order; a failed call yields an Error in
   * its place, so one failure never hides the others' results.
   */
  pipeline(calls: readonly RedisCall[]): Promise<unknown[]>;
  /** GET of each key as bytes (null where there is none), together as {@link pipeline} runs calls. */
  getBuffers(keys: readonly string[]): Promise<(Buffer | null)[]>;
  /** Every key matching a SCAN pattern, on every master (the layout migration walks with it). */
  scan(match: string): Promise<string[]>;
  /**
   * Whether values may be raw bytes. ioredis: yes; Upstash's REST API carries JSON text, so
   * owner documents go there as base64 (document.ts encodings).
   */
  readonly binary: boolean;
  close(): Promise<void>;
}

/** A script's error reply, recognisable by the code the scripts put first (`OW_CONFLICT …`). */
export function replyCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  const match = /\b(OW_[A-Z]+)\b/.exec(message);
  return match?.[1];
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.includes("NOSCRIPT");
}

/** Throws the Error a pipeline put in place of a failed call; passes results through. */
export function unwrap<T = unknown>(value: unknown): T {
  if (value instanceof Error) throw value;
  return value as T;
}
