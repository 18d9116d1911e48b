// Prisma CLI configuration (tooling only: the app itself never reads this file).
// `prisma migrate deploy` works against DATABASE_URL wherever Prisma's schema engine is available.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env["DATABASE_URL"] ?? "postgresql://localhost:5432/tasks" },
});
