import type { FastifyPluginAsync } from 'fastify';
import type { PbxDirectory } from '../../pbx/pbx-directory.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { CustomBotStore } from '../../telegram/custom-bots.js';
import { reportsApiRoutes } from './api-routes.js';
import type { Reports } from './index.js';

/** What the Reports pages and their REST API need. */
export interface ReportsRoutesDeps {
  reports: Reports;
  directory: PbxDirectory;
  customBots: CustomBotStore;
  settings: SettingsStore;
  adminToken: string | null;
}

/** A deck file of 60 000 prefixes with dates is a few MB; 32 MB is the ceiling. */
const DECK_BODY_LIMIT = 32 * 1024 * 1024;

/** The Reports pages (profit report, decks, chats, loss limits) and the REST API under /api/v1/reports. */
export const reportsRoutes: FastifyPluginAsync<ReportsRoutesDeps> = async (app, deps) => {
  await app.register(reportsApiRoutes, { prefix: '/api/v1', reports: deps.reports, settings: deps.settings, adminToken: deps.adminToken, deckBodyLimit: DECK_BODY_LIMIT });
};
