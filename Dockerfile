# Tasks web process. Runs on embedded PGlite by default (mount /data to keep it), or on
# PostgreSQL with DATABASE_URL. `docker build -t tasks . && docker run -p 3000:3000 -v tasks-data:/data tasks`
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
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
