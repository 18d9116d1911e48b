// Realistic-looking fake secrets, assembled from parts at run time so that this repository's own
// files never hold one (and no scanner run over them trips). Same seed, same secrets.
import { generateKeyPairSync } from "node:crypto";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomText(seed: number, length: number, characters = alphabet): string {
  let state = seed;
  let text = "";
  for (let index = 0; index < length; index++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    text += characters[state % characters.length];
  }
  return text;
}

const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const join = (...parts: string[]) => parts.join("");

export const fake = {
  githubClassic: join("gh", "p_", randomText(1, 36)),
  githubInstallation: join("gh", "s_", randomText(2, 36)),
  githubInstallationLonger: join("gh", "s_", randomText(3, 44)),
  githubFineGrained: join("github", "_pat_", "11", randomText(4, 20, upper), "_", randomText(5, 59)),
  awsAccessKeyId: join("AK", "IA", randomText(6, 16, upper)),
  awsSecretAccessKey: randomText(7, 40),
  slackBot: join("xo", "xb-", "2718281828", "-", "3141592653589", "-", randomText(8, 24)),
  anthropicApi: join("sk-", "ant-", "api03-", randomText(9, 93), "AA"),
  anthropicOauth: join("sk-", "ant-", "oat01-", randomText(10, 93), "AA"),
  openaiProject: join("sk-", "proj-", randomText(11, 74), "T3Blbk", "FJ", randomText(12, 74)),
  openaiProjectUnmarked: join("sk-", "proj-", randomText(13, 156)),
  gatewayRunToken: join("tg", "w_", randomText(14, 43)),
};

const publicKeyEncoding = { type: "spki", format: "pem" } as const;

export function rsaPrivateKeyPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 1024, publicKeyEncoding, privateKeyEncoding: { type: "pkcs1", format: "pem" } })
    .privateKey;
}

/** Short enough (about 64 base64 characters) that secretlint's placeholder check lets it through. */
export function ed25519PrivateKeyPem(): string {
  return generateKeyPairSync("ed25519", { publicKeyEncoding, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
}

/** PKCS#8 with a passphrase: "BEGIN ENCRYPTED PRIVATE KEY", which secretlint's pattern does not name. */
export function encryptedPrivateKeyPem(): string {
  return generateKeyPairSync("ec", {
    namedCurve: "P-256",
    publicKeyEncoding,
    privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "not-a-real-passphrase" },
  }).privateKey;
}
