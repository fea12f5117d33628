import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  apiKeyMatches,
  generateApiKey,
  generateWebhookSecret,
  hashApiKey,
} from "../../src/crypto/api-key.js";

describe("API keys", () => {
  it("are owk_ plus 32 random bytes, never repeated", () => {
    const key = generateApiKey();
    expect(key).toMatch(/^owk_[\w-]{43}$/);
    expect(generateApiKey()).not.toBe(key);
  });

  it("match only their own hash", () => {
    const key = generateApiKey();
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(key.slice(4));
    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(apiKeyMatches(generateApiKey(), hash)).toBe(false);
    expect(apiKeyMatches(key, "")).toBe(false);
    expect(apiKeyMatches(key, "zz")).toBe(false);
  });
});

describe("webhook secrets", () => {
  it("are Standard Webhooks secrets that sign and verify", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const wh = new Webhook(secret);
    const body = JSON.stringify({ type: "optout.filed" });
    const timestamp = new Date();
    const signature = wh.sign("msg_1", timestamp, body);
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": signature,
    };
    expect(wh.verify(body, headers)).toEqual({ type: "optout.filed" });
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});
