# One image for every Tasks process: the web process (the default command, `npm start`'s entry
# point) and the Temporal worker (`npm run worker`'s: `node --import tsx src/temporal/worker.ts`).
#
#   docker build -t tasks .
#   docker run -p 3000:3000 -v tasks-data:/data tasks                                   # web, embedded PGlite
#   docker run -e DATABASE_URL=… -e TEMPORAL_ADDRESS=… tasks node --import tsx src/temporal/worker.ts
#
# It runs on embedded PGlite by default (mount /data to keep it), or on PostgreSQL with DATABASE_URL.
# The local sandbox makes user namespaces, which Docker's default seccomp and AppArmor profiles
# refuse: add `--security-opt seccomp=unconfined --security-opt apparmor=unconfined`, or run agents
# in E2B (E2B_API_KEY). Without either the server refuses to start once a GitHub App is configured.
# `docker stop` sends SIGTERM: the process drains (README, "Graceful shutdown") within
# TASKS_SHUTDOWN_GRACE_SECONDS plus a few seconds, so give it `--time` (or Kubernetes'
# terminationGracePeriodSeconds) above that.

# ---- build: the full install, which generates the Prisma client (postinstall), then prod deps only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci && npm prune --omit=dev && npm cache clean --force

# ---- runtime: no compiler, no dev tools; tsx (a prod dependency) runs the TypeScript sources.
FROM node:20-bookworm-slim AS runtime
# bubblewrap isolates each agent command (the local sandbox); git is the control plane's own.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates bubblewrap && rm -rf /var/lib/apt/lists/*
# The agent CLIs the local sandbox runs (the versions package.json pins for the tests).
RUN npm install -g @anthropic-ai/claude-code@2.1.332 @openai/codex@0.169.0 && npm cache clean --force
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src/generated ./src/generated
COPY package.json package-lock.json app.yml ./
COPY bin ./bin
COPY prisma ./prisma
COPY src ./src
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 TASKS_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# Liveness only (/healthz): readiness (/readyz) is for load balancers and orchestrators. curl is not
# installed; node's fetch is. The worker serves no HTTP: give it `--no-healthcheck` (compose: disable).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself rather than npm or the tsx CLI, so SIGTERM reaches the process that drains.
CMD ["node", "--import", "tsx", "src/main.ts"]
