# One image for every process of the dunning orchestrator:
#   API (default)    node dist/api/server.js
#   Temporal worker  node dist/worker/main.js
#   DB migrations    node dist/db/migrate.js
#   ERP simulator    node dist/dev/erp-simulator.js   (dev/test stacks only)
#
# Only classic-builder features are used (no RUN --mount, COPY --chmod/--link), so the image builds
# the same with BuildKit, the legacy builder, and docker-compose 1.29.
# Debian (glibc), not Alpine: @temporalio/core-bridge and @swc/core ship prebuilt linux-*-gnu binaries.

# Same Node line as development and CI (package.json engines: >=20.19); ships npm 10.
ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# ---- build: all dependencies + TypeScript compile (tsc -p tsconfig.build.json -> dist/) ----
FROM base AS build
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# ---- prod-deps: production dependencies only, resolved from the same lockfile ----
FROM base AS prod-deps
COPY package.json package-lock.json ./
# The Temporal core bridge ships native binaries for every platform (~30 MB each): keep the Linux ones.
RUN npm ci --omit=dev \
 && rm -rf node_modules/@temporalio/core-bridge/releases/*-apple-darwin \
           node_modules/@temporalio/core-bridge/releases/*-windows-* \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
# Files stay owned by root (read-only to the app); the process runs as the image's non-root `node` user.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
# Cadence JSON files: CADENCE_FILE (e.g. config/cadences/standard.json) is resolved against WORKDIR /app.
COPY --from=build /app/config ./config
# Plain .sql migrations. dist/db/migrate.js reads them beside itself (path.resolve(__dirname, 'migrations'))
# and tsc does not copy .sql files, so they go to dist/db/migrations; the copy at the project-root path
# keeps the image working if migrate.ts ever resolves them from the project root instead.
COPY --from=build /app/db/migrations ./dist/db/migrations
COPY --from=build /app/db/migrations ./db/migrations
USER node
EXPOSE 3000
CMD ["node", "dist/api/server.js"]
