/** The parts of an Asterisk channel name such as `PJSIP/101-0000000a` or `Local/101@from-internal-00000001;2`. */
export interface ChannelName {
  tech: string;
  /** The endpoint (PJSIP/SIP/IAX2 peer, e.g. `101` or `trunk`), or for Local channels `exten@context`. */
  endpoint: string;
  isLocal: boolean;
}

/**
 * Splits a channel name into technology and endpoint: the per-call suffix Asterisk adds
 * (`-0000000a`, and `;1`/`;2` for Local channels) is dropped.
 */
export function parseChannelName(channel: string): ChannelName {
  const slash = channel.indexOf('/');
  if (slash < 0) return { tech: '', endpoint: channel, isLocal: false };
  const tech = channel.slice(0, slash);
  let rest = channel.slice(slash + 1);
  const isLocal = tech.toLowerCase() === 'local';
  if (isLocal) rest = rest.replace(/;\d$/, '');
  const dash = rest.lastIndexOf('-');
  const endpoint = dash > 0 && /^[0-9a-f]+$/i.test(rest.slice(dash + 1)) ? rest.slice(0, dash) : rest;
  return { tech, endpoint, isLocal };
}

/** Decides whether an endpoint is one of the PBX's own phones (an extension) or a trunk. */
export type EndpointClassifier = (endpoint: string) => 'extension' | 'trunk';

/**
 * The default classifier: endpoints in the extensions table are extensions, endpoints
 * named as trunks are trunks; otherwise short all-digit names (2-6 digits) are taken for
 * extensions and anything else for a trunk.
 */
export function endpointClassifier(known: () => { extensions: ReadonlySet<string>; trunks: ReadonlySet<string> }): EndpointClassifier {
  return (endpoint) => {
    const { extensions, trunks } = known();
    if (extensions.has(endpoint)) return 'extension';
    if (trunks.has(endpoint)) return 'trunk';
    return /^\d{2,6}$/.test(endpoint) ? 'extension' : 'trunk';
  };
}
