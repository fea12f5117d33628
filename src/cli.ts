/**
 * The `onewindow` command (DESIGN §3). Exit codes: 0 ok, 1 runtime failure, 2 bad usage or
 * bad configuration (naming each bad setting).
 */
import { parseArgs } from "node:util";
import { config as loadDotenv } from "dotenv";
import { ZodError } from "zod";
import { runParse } from "./cli/parse.js";
import { ConfigError, loadConfig } from "./config.js";
import { KeyConfigError } from "./crypto/keys.js";
import { createProcessDispatcher } from "./delivery/process-dispatcher.js";
import { insurerNames } from "./domain/insurer-name.js";
import { captureConsole, createLogger } from "./logger.js";
import { startService } from "./main.js";
import { createExtractor } from "./nlu/create-extractor.js";
import { createServices } from "./services/create-services.js";
import { WebhookUrlError } from "./services/insurer-service.js";
import { telegramStopLink } from "./services/insurer-views.js";
import { DuplicateError, NotFoundError } from "./store/store.js";

const USAGE = `usage: onewindow <command>
  serve                                   run the service (what npm start runs)
  insurer add <id> --name <name> [--name-zh <name>] [--alias <text>]... [--webhook <url>]
      [--contact <text>]                  owners can choose an insurer only once it has --contact
  insurer list
  insurer update <id> [--name <name>] [--name-zh <name>] [--alias <text>]... [--webhook <url>]
      [--contact <text>]                  an empty --name-zh, --webhook or --contact clears it
  insurer rotate-key <id> | rotate-webhook-secret <id> | remove <id>
  parse "<text>" [--lang en|zh] [--now YYYY-MM-DD]
  dispatch                                deliver what is due once and exit (cron, serverless)
`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const err = (s: string) => process.stderr.write(`${s}\n`);
  loadDotenv({ quiet: true });
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case "serve":
        return await serve();
      case "insurer":
        return await insurer(rest, out, err);
      case "parse":
        return await parse(rest, out, err);
      case "dispatch":
        return await dispatch(rest, out);
      case "help":
      case "--help":
      case "-h":
        out(USAGE);
        return 0;
      default:
        throw new UsageError(command ? `unknown command: ${command}` : "no command given");
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`onewindow: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      err(`onewindow: ${e.message}`);
      return 2;
    }
    if (e instanceof KeyConfigError) {
      err(`onewindow: bad configuration:\n  - ${e.message}`);
      return 2;
    }
    if (e instanceof ZodError) {
      err(
        `onewindow: invalid input:\n${e.issues.map((i) => `  - ${i.path.join(".") || "value"}: ${i.message}`).join("\n")}`,
      );
      return 2;
    }
    if (e instanceof NotFoundError || e instanceof WebhookUrlError) {
      err(`onewindow: ${e.message}`);
      return 2;
    }
    if (e instanceof DuplicateError) {
      err(`onewindow: ${e.message}`);
      return 2;
    }
    err(`onewindow: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

async function serve(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // Libraries' own console lines (grammY's runner on a fetch error) become JSON log lines too.
  captureConsole(logger);
  const service = await startService(config, logger);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, "stopping: no new updates or requests; finishing what is in flight");
      service.stop().then(
        () => resolve(0),
        (e: unknown) => {
          logger.error({ err: e instanceof Error ? e.message : String(e) }, "stop failed");
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

/** Said on stderr (stdout stays one JSON object) when an insurer is left without a contact line. */
const noContactNote = (id: string) =>
  `note: insurer ${id} has no --contact line, so owners cannot choose it for consent until it has one ` +
  `(onewindow insurer update ${id} --contact "<line>")`;

/** A name option must hold more than whitespace (exit 2, naming the option). */
function nameOption(option: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "")
    throw new UsageError(`${option} must not be empty or only whitespace`);
  return value;
}

async function insurer(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  const config = loadConfig();
  const run = async <T>(fn: (s: Awaited<ReturnType<typeof createServices>>) => Promise<T>) => {
    const services = await createServices(config, createLogger(config.logLevel));
    try {
      return await fn(services);
    } finally {
      await services.close();
    }
  };
  switch (sub) {
    case "add": {
      const { values, positionals } = parseOrUsage(rest, {
        name: { type: "string" },
        "name-zh": { type: "string" },
        alias: { type: "string", multiple: true },
        webhook: { type: "string" },
        contact: { type: "string" },
      });
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new UsageError("insurer add takes exactly one <id>");
      if (values.name === undefined) throw new UsageError("insurer add needs --name");
      const name = nameOption("--name", values.name) as string;
      const nameZh = nameOption("--name-zh", values["name-zh"]);
      const { backfilled: _, ...created } = await run((s) =>
        s.insurers.add({
          id,
          name,
          nameZh,
          aliases: values.alias ?? [],
          webhookUrl: values.webhook,
          contact: values.contact,
        }),
      );
      out(JSON.stringify(created));
      if (values.contact === undefined) err(noContactNote(id));
      return 0;
    }
    case "list": {
      parseOrUsage(rest, {});
      const list = await run((s) => s.insurers.list());
      out(JSON.stringify(list));
      return 0;
    }
    case "update": {
      const { values, positionals } = parseOrUsage(rest, {
        name: { type: "string" },
        "name-zh": { type: "string" },
        alias: { type: "string", multiple: true },
        webhook: { type: "string" },
        contact: { type: "string" },
      });
      const id = onlyId(positionals, "update");
      // An empty --name-zh, --webhook or --contact clears it.
      const clear = (v: string | undefined) => (v === undefined ? undefined : v === "" ? null : v);
      const name = nameOption("--name", values.name);
      const nameZh = values["name-zh"] === "" ? null : nameOption("--name-zh", values["name-zh"]);
      const updated = await run((s) =>
        s.insurers.update(id, {
          name,
          nameZh,
          aliases: values.alias,
          webhookUrl: clear(values.webhook),
          contact: clear(values.contact),
        }),
      );
      out(JSON.stringify(updated));
      if (updated.contact === undefined && values.contact !== undefined) err(noContactNote(id));
      return 0;
    }
    case "rotate-key": {
      const id = onlyId(parseOrUsage(rest, {}).positionals, "rotate-key");
      out(JSON.stringify(await run((s) => s.insurers.rotateKey(id))));
      return 0;
    }
    case "rotate-webhook-secret": {
      const id = onlyId(parseOrUsage(rest, {}).positionals, "rotate-webhook-secret");
      out(JSON.stringify(await run((s) => s.insurers.rotateWebhookSecret(id))));
      return 0;
    }
    case "remove": {
      const id = onlyId(parseOrUsage(rest, {}).positionals, "remove");
      out(JSON.stringify(await run((s) => s.insurers.remove(id))));
      return 0;
    }
    default:
      throw new UsageError(
        sub
          ? `unknown insurer command: ${sub}`
          : "insurer needs a command (add, list, update, rotate-key, rotate-webhook-secret, remove)",
      );
  }
}

async function dispatch(args: string[], out: (s: string) => void): Promise<number> {
  parseOrUsage(args, {});
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const services = await createServices(config, logger);
  try {
    // The stop link names the bot that `serve` last ran as, so a retried body stays identical.
    const username = await services.store.getMeta("bot.username");
    const dispatcher = createProcessDispatcher({
      ...services,
      optOutLink: telegramStopLink(username),
    });
    const stats = await dispatcher.runOnce();
    await dispatcher.stop();
    out(JSON.stringify(stats));
    return 0;
  } finally {
    await services.close();
  }
}

async function parse(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const config = loadConfig();
  // The directory gives insurer names; reading it needs the keys (the store checks them).
  const directory = await (async () => {
    const services = await createServices(config, createLogger("silent"));
    try {
      // Its Chinese name (--name-zh) is a name the text may use too.
      return (await services.store.listInsurers()).map((i) => ({
        ...i,
        aliases: insurerNames(i).filter((n) => n !== i.name),
      }));
    } finally {
      await services.close();
    }
  })();
  const extractor = createExtractor({ openai: config.openai, logger: createLogger(config.logLevel) });
  return runParse(args, {
    extractor,
    directory,
    defaultTimezone: config.defaultTimezone,
    now: new Date(),
    stdout: out,
    stderr: err,
  });
}

function onlyId(positionals: string[], command: string): string {
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError(`insurer ${command} takes exactly one <id>`);
  return id;
}

type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;
function parseOrUsage<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}
