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

/** With an empty MicrosoftAppId the adapter runs anonymously, as the Agents Playground expects. */
export function createBotEdge(config: Config, logger: Logger): BotEdge {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.MicrosoftAppId,
    MicrosoftAppPassword: config.MicrosoftAppPassword,
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId,
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
