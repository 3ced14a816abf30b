// SMTP Gate in Azure: App Service (Linux, Node 20) running the compiled bot, Azure Bot (single-tenant,
// Teams channel), PostgreSQL Flexible Server, Key Vault for the secrets, a user-assigned managed
// identity (Graph, Exchange and the Key Vault references) and Application Insights.
// Deployed by `m365agents.yml` (arm/deploy) or by hand: docs/deploy.md.

@maxLength(16)
@minLength(3)
@description('Prefix of every resource name (letters and digits).')
param resourceBaseName string

param location string = resourceGroup().location

@description('Client id of the bot\'s single-tenant app registration (also the audit tab\'s SSO app).')
param botAadAppClientId string

@secure()
@description('Client secret of that app registration; stored in Key Vault, never in app settings.')
param botAadAppClientSecret string

@description('Display name of the bot in Teams and in the Azure portal.')
param botDisplayName string = 'SMTP Gate'

@description('The Microsoft 365 tenant the bot manages (messages from any other tenant are refused).')
param tenantIdToManage string = tenant().tenantId

@description('Object id of the Entra group whose members are IT staff.')
param itStaffGroupId string

@description('Object id of the Entra group whose members approve requests.')
param approverGroupId string

param webAppSku string = 'B1'

@description('PostgreSQL administrator login.')
param postgresAdminLogin string = 'smtpgate'

@secure()
@description('PostgreSQL administrator password; it only reaches the bot inside DATABASE_URL, from Key Vault.')
param postgresAdminPassword string

param postgresSku string = 'Standard_B1ms'

@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param postgresTier string = 'Burstable'

@allowed(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
param logLevel string = 'info'

var names = {
  identity: '${resourceBaseName}-identity'
  plan: '${resourceBaseName}-plan'
  app: '${resourceBaseName}-app'
  bot: '${resourceBaseName}-bot'
  postgres: '${resourceBaseName}-pg'
  database: 'smtpgate'
  // Key Vault names: 3-24 characters, globally unique.
  vault: take('${resourceBaseName}kv${uniqueString(resourceGroup().id)}', 24)
  workspace: '${resourceBaseName}-logs'
  insights: '${resourceBaseName}-insights'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.workspace
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'Node.JS'
    WorkspaceResourceId: workspace.id
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
  sku: {
    name: postgresSku
    tier: postgresTier
  }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
    authConfig: { activeDirectoryAuth: 'Disabled', passwordAuth: 'Enabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: names.database
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// Connections from Azure services only (App Service's outbound addresses); TLS is required by the server.
resource postgresFromAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.vault
  location: location
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-app-password'
  properties: { value: botAadAppClientSecret }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    // verify-full: the server's certificate is checked against the public CAs Node trusts.
    value: 'postgres://${uriComponent(postgresAdminLogin)}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${names.database}?sslmode=verify-full'
  }
}

// Key Vault Secrets User: the identity reads secret values, nothing else.
resource identityReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, '4633458b-17de-408a-b874-0445c86b69e6')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: names.plan
  location: location
  kind: 'linux'
  sku: { name: webAppSku }
  properties: { reserved: true }
}

// Every setting here is one src/config.ts reads (test/infra/bicep.test.ts checks), except the
// three the platform reads: Application Insights' agent and the deployment's build switch.
var appSettings = {
  MicrosoftAppId: botAadAppClientId
  MicrosoftAppPassword: '@Microsoft.KeyVault(SecretUri=${botPasswordSecret.properties.secretUri})'
  MicrosoftAppType: 'SingleTenant'
  MicrosoftAppTenantId: tenant().tenantId
  TENANT_ID: tenantIdToManage
  TENANT_CREDENTIAL: 'managed-identity'
  TENANT_CLIENT_ID: identity.properties.clientId
  TENANT_MANAGED_IDENTITY_CLIENT_ID: identity.properties.clientId
  IT_STAFF_GROUP_ID: itStaffGroupId
  APPROVER_GROUP_ID: approverGroupId
  DATABASE_URL: '@Microsoft.KeyVault(SecretUri=${databaseUrlSecret.properties.secretUri})'
  LOG_LEVEL: logLevel
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  ApplicationInsightsAgent_EXTENSION_VERSION: '~3'
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'false'
}

resource app 'Microsoft.Web/sites@2023-12-01' = {
  name: names.app
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity.
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: 'NODE|20-lts'
      appCommandLine: 'node scripts/start.cjs'
      alwaysOn: true
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      healthCheckPath: '/healthz'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
  }
  dependsOn: [identityReadsSecrets, database, postgresFromAzure]
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: names.bot
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${app.properties.defaultHostName}/api/messages'
    msaAppId: botAadAppClientId
    msaAppType: 'SingleTenant'
    msaAppTenantId: tenant().tenantId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

// Read by m365agents.yml (written to env/.env.<name>) and docs/deploy.md.
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = app.id
output BOT_DOMAIN string = app.properties.defaultHostName
output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output KEY_VAULT_NAME string = vault.name
output POSTGRES_HOST string = postgres.properties.fullyQualifiedDomainName
