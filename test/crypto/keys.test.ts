import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KeyConfigError, loadKeys } from "../../src/crypto/keys.js";

const dirs: string[] = [];
function keysDir(): string {
  const base = mkdtempSync(path.join(os.tmpdir(), "onewindow-keys-"));
  dirs.push(base);
  return path.join(base, "keys");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => statSync(file).mode & 0o777;
const ed25519Pem = () =>
  generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

async function configError(promise: Promise<unknown>): Promise<KeyConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyConfigError);
  return error as KeyConfigError;
}

describe("loadKeys", () => {
  it("generates both keys on first start with private file modes, and reuses them after", async () => {
    const dir = keysDir();
    const first = await loadKeys({ keysDir: dir });
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, "data.key"))).toBe(0o600);
    expect(mode(path.join(dir, "signing.pem"))).toBe(0o600);
    expect(first.dataKey).toHaveLength(32);
    expect(first.signingPrivate.asymmetricKeyType).toBe("ed25519");
    expect(first.signingPublicJwk).toMatchObject({
      kty: "OKP",
      crv: "Ed25519",
      kid: first.kid,
      alg: "EdDSA",
      use: "sig",
    });
    expect(first.signingPublicJwk).not.toHaveProperty("d");
    expect(first.kid).toMatch(/^[\w-]{43}$/);

    const dataFile = readFileSync(path.join(dir, "data.key"), "utf8");
    const second = await loadKeys({ keysDir: dir });
    expect(second.dataKey.equals(first.dataKey)).toBe(true);
    expect(second.kid).toBe(first.kid);
    expect(second.fingerprints).toEqual(first.fingerprints);
    expect(readFileSync(path.join(dir, "data.key"), "utf8")).toBe(dataFile);
  });

  it("gives two processes starting at once the same keys", async () => {
    const dir = keysDir();
    const [a, b] = await Promise.all([loadKeys({ keysDir: dir }), loadKeys({ keysDir: dir })]);
    expect(a.dataKey.equals(b.dataKey)).toBe(true);
    expect(a.kid).toBe(b.kid);
  });

  it("uses given keys and writes nothing to the keys directory", async () => {
    const dir = keysDir();
    const dataKey = randomBytes(32);
    const keys = await loadKeys({
      keysDir: dir,
      dataKey: dataKey.toString("base64url"),
      signingKey: ed25519Pem(),
    });
    expect(keys.dataKey.equals(dataKey)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  it("keeps an existing key file rather than replacing it", async () => {
    const dir = keysDir();
    mkdirSync(dir, { mode: 0o700 });
    const dataKey = randomBytes(32);
    writeFileSync(path.join(dir, "data.key"), `${dataKey.toString("base64url")}\n`, { mode: 0o600 });
    const keys = await loadKeys({ keysDir: dir });
    expect(keys.dataKey.equals(dataKey)).toBe(true);
    expect(existsSync(path.join(dir, "signing.pem"))).toBe(true);
  });

  it("names DATA_KEY when it is not base64url of 32 bytes", async () => {
    const dir = keysDir();
    for (const bad of [
      "short",
      randomBytes(16).toString("base64url"),
      "not base64url!!",
      randomBytes(33).toString("base64url"),
    ]) {
      const error = await configError(loadKeys({ keysDir: dir, dataKey: bad, signingKey: ed25519Pem() }));
      expect(error.variable).toBe("DATA_KEY");
      expect(error.message).toContain("DATA_KEY");
      expect(error.message).not.toContain(bad);
    }
  });

  it("names SIGNING_KEY when it is not an Ed25519 PKCS#8 PEM", async () => {
    const dir = keysDir();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    for (const bad of ["garbage", String(rsa)]) {
      const error = await configError(
        loadKeys({ keysDir: dir, dataKey: randomBytes(32).toString("base64url"), signingKey: bad }),
      );
      expect(error.variable).toBe("SIGNING_KEY");
      expect(error.message).toContain("SIGNING_KEY");
    }
  });

  it("reports a corrupt generated key file under the variable it stands for", async () => {
    const dir = keysDir();
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(path.join(dir, "data.key"), "broken\n", { mode: 0o600 });
    const error = await configError(loadKeys({ keysDir: dir }));
    expect(error.variable).toBe("DATA_KEY");
    expect(error.message).toContain("data.key");
  });

  it("fingerprints identify keys without revealing them", async () => {
    const dataKey = randomBytes(32);
    const a = await loadKeys({
      keysDir: keysDir(),
      dataKey: dataKey.toString("base64url"),
      signingKey: ed25519Pem(),
    });
    const b = await loadKeys({
      keysDir: keysDir(),
      dataKey: dataKey.toString("base64url"),
      signingKey: ed25519Pem(),
    });
    const c = await loadKeys({ keysDir: keysDir(), dataKey: randomBytes(32).toString("base64url") });
    expect(a.fingerprints.data).toBe(b.fingerprints.data);
    expect(a.fingerprints.data).not.toBe(c.fingerprints.data);
    expect(a.fingerprints.signing).toBe(a.kid);
    expect(a.fingerprints.signing).not.toBe(b.fingerprints.signing);
    expect(a.fingerprints.data).not.toContain(dataKey.toString("hex"));
  });
});
