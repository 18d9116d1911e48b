# Tasks web process. Runs on embedded PGlite by default (mount /data to keep it), or on
# PostgreSQL with DATABASE_URL. `docker build -t tasks . && docker run -p 3000:3000 -v tasks-data:/data tasks`
# The local sandbox makes user namespaces, which Docker's default seccomp and AppArmor profiles
# refuse: add `--security-opt seccomp=unconfined --security-opt apparmor=unconfined`, or run agents
# in E2B (E2B_API_KEY). Without either the server refuses to start once a GitHub App is configured.
FROM node:20-bookworm-slim
# bubblewrap isolates each agent command (the local sandbox); the agent CLIs run inside it.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates bubblewrap && rm -rf /var/lib/apt/lists/*
RUN npm install -g @anthropic-ai/claude-code@2.1.332 @openai/codex@0.169.0 && npm cache clean --force
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# The full install generates the Prisma client (postinstall); dev tools are then pruned.
RUN npm ci && npm prune --omit=dev
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 TASKS_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts"]
