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
function publicCloudWith(config: Config): Record<string, unknown> {
  return {
    ValidateAuthority: true,
    ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
    ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    ToBotFromChannelTokenIssuer: config.BOT_TOKEN_ISSUER ?? 'https://api.botframework.com',
    OAuthUrl: 'https://api.botframework.com',
    ToBotFromChannelOpenIdMetadataUrl: config.BOT_OPENID_METADATA_URL ?? 'https://login.botframework.com/v1/.well-known/openidconfiguration',
    ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration',
    CallerId: 'urn:botframework:azure',
  };
}

/** With an empty MicrosoftAppId the adapter runs anonymously, as the Agents Playground expects. */
export function createBotEdge(config: Config, logger: Logger): BotEdge {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.MicrosoftAppId,
    MicrosoftAppPassword: config.MicrosoftAppPassword,
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId,
    ...(config.BOT_OPENID_METADATA_URL || config.BOT_TOKEN_ISSUER ? publicCloudWith(config) : {}),
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
