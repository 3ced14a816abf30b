import {
  CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions,
} from 'botbuilder';
import type { Config } from '../config';
import type { Logger } from '../log';

export interface BotEdge {
  adapter: CloudAdapter;
  /** Validates the Bot Framework JWT of an incoming request; throws when it is not acceptable. */
  authenticate(activity: Record<string, unknown>, authHeader: string): Promise<void>;
  anonymous: boolean;
}

/**
 * Overriding one endpoint makes botbuilder drop every public-cloud default
 * (BotFrameworkAuthenticationFactory), so the rest are restated here, as AuthenticationConstants has them.
 */
function overridesEndpoints(config: Config): boolean {
  return Boolean(config.BOT_OPENID_METADATA_URL || config.BOT_TOKEN_ISSUER || config.ToBotFromChannelOpenIdMetadataUrl || config.ToBotFromChannelTokenIssuer
    || config.ToBotFromEmulatorOpenIdMetadataUrl || config.ToChannelFromBotLoginUrl || config.ToChannelFromBotOAuthScope);
}

function publicCloudWith(config: Config): Record<string, unknown> {
  return {
    ValidateAuthority: true,
    ToChannelFromBotLoginUrl: config.ToChannelFromBotLoginUrl ?? 'https://login.microsoftonline.com/botframework.com',
    ToChannelFromBotOAuthScope: config.ToChannelFromBotOAuthScope ?? 'https://api.botframework.com',
    ToBotFromChannelTokenIssuer: config.ToBotFromChannelTokenIssuer ?? config.BOT_TOKEN_ISSUER ?? 'https://api.botframework.com',
    OAuthUrl: 'https://api.botframework.com',
    ToBotFromChannelOpenIdMetadataUrl: config.ToBotFromChannelOpenIdMetadataUrl ?? config.BOT_OPENID_METADATA_URL ?? 'https://login.botframework.com/v1/.well-known/openidconfiguration',
    ToBotFromEmulatorOpenIdMetadataUrl: config.ToBotFromEmulatorOpenIdMetadataUrl ?? 'https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration',
    CallerId: 'urn:botframework:azure',
  };
}

/** With an empty MicrosoftAppId the adapter runs anonymously, as the Agents Playground expects. */
export function createBotEdge(config: Config, logger: Logger): BotEdge {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.MicrosoftAppId,
    MicrosoftAppPassword: config.MicrosoftAppPassword,
    // Anonymous (local mode) has no registration, so no app type: SingleTenant without an app id would not start.
    MicrosoftAppType: config.MicrosoftAppId ? config.MicrosoftAppType : 'MultiTenant',
    MicrosoftAppTenantId: config.MicrosoftAppTenantId,
    ...(overridesEndpoints(config) ? publicCloudWith(config) : {}),
  } as ConfigurationBotFrameworkAuthenticationOptions);
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, error) => {
    logger.error({ err: error, activityType: context.activity.type }, 'unhandled error in a turn');
  };
  return {
    adapter,
    anonymous: !config.MicrosoftAppId,
    async authenticate(activity, authHeader) {
      await auth.authenticateRequest(activity as never, authHeader);
    },
  };
}

/**
 * Header fields that name where to fetch a key (jku, x5u) or carry one (jwk, x5c): botbuilder
 * ignores them and looks the kid up in the channel's published set, but a token that carries them
 * was not minted by the Bot Framework, so it is refused before any lookup (issue #13).
 */
export function foreignKeyHeader(authHeader: string): string | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authHeader.trim())?.[1];
  if (!token) return undefined;
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return ['jku', 'x5u', 'jwk', 'x5c'].find((name) => name in header);
  } catch {
    return undefined;
  }
}
