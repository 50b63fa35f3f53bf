import type { FastifyReply, FastifyRequest } from 'fastify';
import { sameToken } from './admin-auth.js';

/**
 * The onRequest hook of every REST plugin under /api/v1: the request must carry
 * `Authorization: Bearer <TGPBX_ADMIN_TOKEN>` (compared in constant time); with no token
 * configured the API is off (503).
 */
export function requireAdminToken(adminToken: string | null) {
  // Returning the reply after sending tells fastify the request ends here.
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!adminToken) return reply.code(503).send({ error: 'the REST API is off: set TGPBX_ADMIN_TOKEN to switch it on' });
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!presented || !sameToken(presented, adminToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
    }
    return undefined;
  };
}
