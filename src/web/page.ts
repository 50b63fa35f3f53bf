import type { FastifyReply, FastifyRequest } from 'fastify';

/** The sidebar: built pages link, features still to come are listed greyed out. */
export const NAVIGATION = [
  { href: '/status', label: 'Status', ready: true },
  { href: '/calls', label: 'Calls', ready: true },
  { href: '/missed-calls', label: 'Missed calls', ready: true },
  { href: '/reports', label: 'Reports', ready: true },
  { href: '/support-lines', label: 'Support lines', ready: false },
  { href: '/campaigns', label: 'Campaigns', ready: false },
  { href: '/provider', label: 'Telegram provider', ready: true },
  { href: '/directory', label: 'Extensions & groups', ready: true },
  { href: '/dialplan', label: 'Dialplan', ready: true },
  { href: '/settings', label: 'Settings', ready: true },
];

/** Reads a signed cookie; undefined when absent or tampered with. */
export function unsignedCookie(req: FastifyRequest, name: string): string | undefined {
  const raw = req.cookies[name];
  if (!raw) return undefined;
  const result = req.unsignCookie(raw);
  return result.valid && result.value ? result.value : undefined;
}

/** Renders a page inside the layout with the CSRF token and the navigation at hand. */
export async function renderPage(req: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>): Promise<FastifyReply> {
  const csrfToken = reply.generateCsrf();
  return reply.view(view, { csrfToken, currentPath: req.url.split('?')[0], isAdmin: req.isAdmin, ...data });
}

