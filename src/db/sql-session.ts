// A raw SQL session for the migrations runner: one connection that can run a script and
// parameterised queries. PGlite and PostgreSQL both provide one, so migrations run the same way.
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

export interface SqlSession {
  /** Runs a script of one or more statements, without parameters. */
  exec(script: string): Promise<void>;
  query<Row extends object>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export function pgliteSession(db: PGlite): SqlSession {
  return {
    exec: async (script) => {
      await db.exec(script);
    },
    query: async <Row extends object>(sql: string, params: unknown[] = []) => (await db.query<Row>(sql, params)).rows,
  };
}

export function pgSession(client: pg.ClientBase): SqlSession {
  return {
    exec: async (script) => {
      await client.query(script);
    },
    query: async <Row extends object>(sql: string, params: unknown[] = []) =>
      (await client.query<Row & pg.QueryResultRow>(sql, params)).rows,
  };
}
