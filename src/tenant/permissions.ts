/**
 * What each call to Microsoft 365 needs, least privilege first — the table docs/permissions.md
 * explains. A refused call names the entry here, so the admin knows what to grant.
 */

/** Microsoft Graph application permissions, by the operation names the Directory adapter uses. */
export const graphPermissionFor: Record<string, string> = {
  'GET /users': 'User.Read.All',
  'GET /users/{id}': 'User.Read.All',
  'POST /users/{id}/checkMemberGroups': 'GroupMember.Read.All',
  'POST /users/{id}/getMemberGroups': 'GroupMember.Read.All',
  'GET /groups': 'GroupMember.Read.All',
  'GET /groups/{id}/transitiveMembers': 'GroupMember.Read.All',
  'GET /policies/identitySecurityDefaultsEnforcementPolicy': 'Policy.Read.All',
  'PATCH /policies/identitySecurityDefaultsEnforcementPolicy': 'Policy.ReadWrite.SecurityDefaults',
  'GET /identity/conditionalAccess/policies': 'Policy.Read.All',
  // Per-user MFA of another user (Graph beta): read with Policy.Read.All, write with Policy.ReadWrite.AuthenticationMethod.
  'GET /users/{id}/authentication/requirements': 'Policy.Read.All',
  'PATCH /users/{id}/authentication/requirements': 'Policy.ReadWrite.AuthenticationMethod',
  'GET /auditLogs/signIns': 'AuditLog.Read.All',
};

/** Exchange management roles (RBAC) that include each cmdlet; the service principal needs the role, and the app Exchange.ManageAsApp. */
export const exchangeRoleFor: Record<string, string> = {
  'Get-CASMailbox': 'Mail Recipients',
  'Set-CASMailbox': 'Mail Recipients',
  'Get-Mailbox': 'Mail Recipients',
  'Get-User': 'Mail Recipients',
  'Set-User': 'Recipient Policies',
  'Get-TransportConfig': 'Organization Transport Settings',
  'Set-TransportConfig': 'Organization Transport Settings',
  'Get-OrganizationConfig': 'View-Only Configuration',
  'Get-AuthenticationPolicy': 'View-Only Configuration',
};

/**
 * Parameters Exchange RBAC grants through another role than their cmdlet's. Without the role the
 * parameter is hidden, and Exchange answers "A parameter cannot be found that matches parameter
 * name 'X'" rather than a permission error.
 */
export const exchangeRoleForParameter: Record<string, string> = {
  'Set-User -AuthenticationPolicy': 'Recipient Policies',
};

export const EXCHANGE_APP_PERMISSION = 'Exchange.ManageAsApp';
