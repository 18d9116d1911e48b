// api/ — the HTTP routes on the app's port: the task API for internal products (team API keys,
// Idempotency-Key, OpenAPI 3.1 at /api/openapi.json) and the admin API for operators (admin
// token). Every error answers {error: {code, message}} with the status the error taxonomy gives.
// Routes call tasks/ only. Entry: create-api.ts.
export {};
