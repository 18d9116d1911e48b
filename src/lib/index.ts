// lib/ — small things every room shares: the error taxonomy (errors.ts: kinds, HTTP status,
// retryable or permanent), the logger, reading the admin token and the App's private key, and
// stripping hidden text from untrusted markdown. Imports nothing but config.
export {};
