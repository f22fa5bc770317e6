//! The organization mode's reach into other accounts and regions: STS's
//! AssumeRole into each member account's `DDNS_MEMBER_ROLE` (with
//! `DDNS_MEMBER_EXTERNAL_ID`), and EC2 and ECS clients per place built on
//! its credentials. Both are kept for the process's life, the clients
//! until shortly before their credentials expire ([`REFRESH_MARGIN`]), so
//! a warm Lambda process makes no AssumeRole per event: one per account
//! per hour. The deployment's own account in another region needs no role:
//! its clients are the central ones, in that region.
//!
//! `sts:GetCallerIdentity` (no permission needed) tells the central
//! account's id once, so that its own events are told from a member's; and
//! with `DDNS_MEMBER_ACCOUNTS=organization`, `organizations:ListAccounts`
//! lists the member accounts (remembered for [`ACCOUNTS_TTL`]).

use super::{aws_error, CallCounter};
use aws_sdk_ec2::config::{Credentials, Region};
use ec2_ddns_core::config::Members as Settings;
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::Place;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Member clients are made again this long before their credentials
/// expire, so no call goes out on credentials about to lapse.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// How long the organization's account list is remembered.
pub const ACCOUNTS_TTL: Duration = Duration::from_secs(900);

/// The session name every AssumeRole gives (CloudTrail shows it).
const SESSION_NAME: &str = "ec2-ddns";

/// The clients that read one place.
#[derive(Debug, Clone)]
pub struct PlaceClients {
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    /// When their credentials expire; `None`: the central ones, refreshed
    /// by the SDK itself.
    expires: Option<SystemTime>,
}

impl PlaceClients {
    fn fresh(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|at| now + REFRESH_MARGIN < at)
    }
}

/// The member accounts as this process reaches them.
#[derive(Debug)]
pub struct Members {
    shared: aws_config::SdkConfig,
    sts: aws_sdk_sts::Client,
    organizations: aws_sdk_organizations::Client,
    settings: Settings,
    /// The central account's id (GetCallerIdentity).
    pub home_account: String,
    counter: CallCounter,
    places: Mutex<HashMap<Place, PlaceClients>>,
    accounts: Mutex<Option<(Instant, Vec<String>)>>,
}

impl Members {
    /// The members of `settings`, reached from the central clients'
    /// configuration `shared`; asks STS whose account that is.
    pub async fn new(
        shared: &aws_config::SdkConfig,
        settings: &Settings,
        counter: CallCounter,
    ) -> Result<Members> {
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(shared)
                .interceptor(counter.clone())
                .build(),
        );
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(shared)
                .interceptor(counter.clone())
                .build(),
        );
        let me = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("sts:GetCallerIdentity", e))?;
        let home_account = me
            .account()
            .filter(|a| Place::is_account_id(a))
            .ok_or_else(|| Error::Aws {
                operation: "sts:GetCallerIdentity".into(),
                code: None,
                message: "STS named no account for these credentials".into(),
                kind: Failure::Final,
            })?
            .to_string();
        Ok(Members {
            shared: shared.clone(),
            sts,
            organizations,
            settings: settings.clone(),
            home_account,
            counter,
            places: Mutex::new(HashMap::new()),
            accounts: Mutex::new(None),
        })
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clients that read `place`: kept ones while their credentials
    /// last, else new ones (an AssumeRole for a member account).
    pub async fn clients(&self, place: &Place) -> Result<PlaceClients> {
        let now = SystemTime::now();
        if let Some(kept) = Self::lock(&self.places).get(place).filter(|c| c.fresh(now)) {
            return Ok(kept.clone());
        }
        let (credentials, expires) = if place.account == self.home_account {
            (None, None)
        } else {
            let (credentials, expires) = self.assume(&place.account).await?;
            (Some(credentials), expires)
        };
        let region = Region::new(place.region.clone());
        let mut ec2 = aws_sdk_ec2::config::Builder::from(&self.shared)
            .region(region.clone())
            .interceptor(self.counter.clone());
        let mut ecs = aws_sdk_ecs::config::Builder::from(&self.shared)
            .region(region)
            .interceptor(
                self.counter
                    .clone()
                    .with_throttles(super::ecs::attempt_error_code),
            );
        if let Some(credentials) = credentials {
            ec2 = ec2.credentials_provider(credentials.clone());
            ecs = ecs.credentials_provider(credentials);
        }
        let made = PlaceClients {
            ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
            ecs: aws_sdk_ecs::Client::from_conf(ecs.build()),
            expires,
        };
        Self::lock(&self.places).insert(place.clone(), made.clone());
        Ok(made)
    }

    /// The member role's credentials in `account`, and when they expire.
    async fn assume(&self, account: &str) -> Result<(Credentials, Option<SystemTime>)> {
        let region = self
            .shared
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default();
        let role_arn = format!(
            "arn:{}:iam::{account}:role/{}",
            partition(&region),
            self.settings.role
        );
        let out = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(self.settings.external_id.clone())
            .send()
            .await
            .map_err(|e| aws_error("sts:AssumeRole", e))?;
        let granted = out.credentials().ok_or_else(|| Error::Aws {
            operation: "sts:AssumeRole".into(),
            code: None,
            message: format!("STS gave no credentials for {role_arn}"),
            kind: Failure::Transient,
        })?;
        let expires = SystemTime::try_from(*granted.expiration()).ok();
        let credentials = Credentials::new(
            granted.access_key_id(),
            granted.secret_access_key(),
            Some(granted.session_token().to_string()),
            expires,
            "ec2-ddns-member-role",
        );
        tracing::info!(account, role = %role_arn, "member role assumed");
        Ok((credentials, expires))
    }

    /// Every active account of the organization but the central one
    /// (ListAccounts, all pages), remembered for [`ACCOUNTS_TTL`].
    pub async fn organization_accounts(&self) -> Result<Vec<String>> {
        if let Some((at, accounts)) = &*Self::lock(&self.accounts) {
            if at.elapsed() < ACCOUNTS_TTL {
                return Ok(accounts.clone());
            }
        }
        let mut accounts = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .organizations
                .list_accounts()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("organizations:ListAccounts", e))?;
            accounts.extend(
                page.accounts()
                    .iter()
                    .filter(|a| {
                        a.status().is_none_or(|s| {
                            *s == aws_sdk_organizations::types::AccountStatus::Active
                        })
                    })
                    .filter_map(|a| a.id())
                    .filter(|id| *id != self.home_account)
                    .map(str::to_string),
            );
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        *Self::lock(&self.accounts) = Some((Instant::now(), accounts.clone()));
        Ok(accounts)
    }
}

/// The ARN partition of `region`.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_clients_are_made_again_before_their_credentials_lapse() {
        let now = SystemTime::now();
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .build();
        let ecs_conf = aws_sdk_ecs::Config::builder()
            .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
            .build();
        let clients = |expires| PlaceClients {
            ec2: aws_sdk_ec2::Client::from_conf(conf.clone()),
            ecs: aws_sdk_ecs::Client::from_conf(ecs_conf.clone()),
            expires,
        };
        assert!(clients(None).fresh(now));
        assert!(clients(Some(now + Duration::from_secs(3600))).fresh(now));
        assert!(!clients(Some(now + Duration::from_secs(299))).fresh(now));
        assert!(!clients(Some(now - Duration::from_secs(1))).fresh(now));
    }

    #[test]
    fn the_partition_follows_the_region() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
