# The E2B sandbox template "tasks": where the agent works on a checkout (src/sandbox/e2b-sandbox.ts).
# Build it with the E2B CLI (v2 build system, reads this file directly):
#   e2b template create tasks --dockerfile e2b.Dockerfile --cpu-count 2 --memory-mb 4096
# E2B supports Debian-based images and a single stage; it adds its own agent (envd) on top.
#
# No credential is baked in, and none may be: the sandbox is untrusted compute. Model keys reach
# the agent's command at run time through its environment; nothing that can write to GitHub ever does.
FROM node:20-bookworm-slim

# Pinned so a rebuild does not silently change the agents; bump deliberately.
ARG CLAUDE_CODE_VERSION=2.1.332
ARG CODEX_VERSION=0.169.0

# git for the checkout (cloned from a bundle the control plane uploads); util-linux for setsid,
# which the adapter wraps every command in so it can kill the command's whole process group.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates util-linux procps curl \
 && rm -rf /var/lib/apt/lists/*

RUN npm install --global --no-fund --no-audit \
      "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
      "@openai/codex@${CODEX_VERSION}" \
 && npm cache clean --force

# The user commands run as: not root, no sudo. Home and directory layout match what the adapter
# expects (/home/user/repo for the checkout, /home/user/scratch for prompts and outputs).
RUN useradd --create-home --shell /bin/bash --home-dir /home/user user

# No auto-update, telemetry or error reporting from inside the sandbox; no interactive prompts.
ENV CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    GIT_TERMINAL_PROMPT=0

USER user
WORKDIR /home/user
