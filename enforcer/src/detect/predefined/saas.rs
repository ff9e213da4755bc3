//! Cloud and SaaS credentials with a documented prefix, as one table.
//!
//! Each row is an anchored detector: its literals find candidates, its
//! regex (ASCII, on normalised text) checks the documented format, and
//! [`token_value`] rejects placeholders and low-entropy values. Formats
//! are the issuers' documented prefixes and lengths as collected by
//! public scanners' rules (gitleaks `config/gitleaks.toml`, trufflehog
//! detectors); tests in `tests/secrets.rs`, sources in
//! `tests/secrets/README.md`.

use super::secrets::token_value;
use super::*;
use crate::detect::validators as v;
use Confidence::{High, Medium};

/// One row: id, description, literals, regex, bytes a match may start
/// before its literal, bytes after it, check, context words.
type Row = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    usize,
    usize,
    fn(&str) -> Option<Score>,
    &'static [&'static str],
);

/// An Anthropic key ends with `AA`.
fn anthropic(m: &str) -> Option<Score> {
    m.ends_with("AA").then_some(())?;
    token_value(m)
}

/// An npm token of the 2021 format carries the same CRC-32 tail as a
/// GitHub token: high when it holds, medium otherwise.
pub(super) fn npm_token(m: &str) -> Option<Score> {
    token_value(m)?;
    if v::github_crc32(m.trim_start_matches("npm_")) {
        s(High, High)
    } else {
        s(Medium, High)
    }
}

/// Values found by shape only, where the prefix is short or common
/// (`API-`, `hf_`): medium bare, high next to the service's name.
fn token_medium(m: &str) -> Option<Score> {
    token_value(m)?;
    s(Medium, High)
}

const ROWS: &[Row] = &[
    ("anthropic_api_key", "Anthropic API or admin key (sk-ant-api03-/sk-ant-admin01- + 93 characters + AA)", &["sk-ant-"], r"\bsk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_\-]{80,110}AA\b", 0, 130, anthropic, &["anthropic", "claude"]),
    ("azure_ad_client_secret", "Microsoft Entra ID (Azure AD) application client secret (3 characters, a digit, Q~, 31-34 characters)", &["Q~"], r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}", 4, 36, token_value, &["azure", "client secret", "client_secret", "entra", "aad"]),
    ("azure_storage_account_key", "Azure storage account key in a connection string (AccountKey= + 86 base64 characters + ==)", &["AccountKey="], r"AccountKey=[A-Za-z0-9+/]{86}==", 0, 100, token_value, &["azure", "storage", "blob"]),
    ("gcp_service_account_key_id", "Google Cloud service-account key file (private_key_id of 40 hex digits)", &["\"private_key_id\""], r#""private_key_id"\s*:\s*"[0-9a-f]{40}""#, 0, 60, token_value, &["service_account", "gcp", "google"]),
    ("google_oauth_client_secret", "Google OAuth client secret (GOCSPX- + 28 characters)", &["GOCSPX-"], r"\bGOCSPX-[A-Za-z0-9_\-]{28}\b", 0, 40, token_value, &["google", "oauth", "client_secret"]),
    ("google_oauth_access_token", "Google OAuth access token (ya29. + 30+ characters)", &["ya29."], r"\bya29\.[A-Za-z0-9_\-]{30,300}", 0, 310, token_value, &["google", "oauth", "bearer"]),
    ("stripe_webhook_secret", "Stripe webhook signing secret (whsec_ + 32+ characters)", &["whsec_"], r"\bwhsec_[A-Za-z0-9]{32,64}\b", 0, 80, token_value, &["stripe", "webhook"]),
    ("docker_hub_pat", "Docker Hub personal access token (dckr_pat_ + 27 characters)", &["dckr_pat_"], r"\bdckr_pat_[A-Za-z0-9_\-]{24,40}", 0, 50, token_value, &["docker", "dockerhub"]),
    ("databricks_token", "Databricks personal access token (dapi + 32 hex, optional -N)", &["dapi"], r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b", 0, 40, token_value, &["databricks"]),
    ("shopify_token", "Shopify access token or shared secret (shpat_/shpca_/shppa_/shpss_ + 32 hex)", &["shpat_", "shpca_", "shppa_", "shpss_"], r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", 0, 40, token_value, &["shopify"]),
    ("atlassian_api_token", "Atlassian (Jira, Confluence) API token (ATATT3 + ~180 characters + 8 hex CRC)", &["ATATT3"], r"\bATATT3[A-Za-z0-9_\-]{150,230}=[A-F0-9]{8}\b", 0, 250, token_value, &["atlassian", "jira", "confluence"]),
    ("hashicorp_vault_token", "HashiCorp Vault service or batch token (hvs./hvb. + 90+ characters)", &["hvs.", "hvb."], r"\bhv[sb]\.[A-Za-z0-9_\-]{90,300}", 0, 310, token_value, &["vault", "hashicorp"]),
    ("terraform_cloud_token", "HashiCorp Terraform Cloud API token (14 characters.atlasv1. + 60-70 characters)", &[".atlasv1."], r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}", 14, 80, token_value, &["terraform", "atlas"]),
    ("digitalocean_token", "DigitalOcean personal, OAuth or refresh token (dop_v1_/doo_v1_/dor_v1_ + 64 hex)", &["dop_v1_", "doo_v1_", "dor_v1_"], r"\bdo[opr]_v1_[a-f0-9]{64}\b", 0, 72, token_value, &["digitalocean"]),
    ("linear_api_key", "Linear API key (lin_api_ + 40 characters)", &["lin_api_"], r"\blin_api_[A-Za-z0-9]{40}\b", 0, 48, token_value, &["linear"]),
    ("perplexity_api_key", "Perplexity API key (pplx- + 48 characters)", &["pplx-"], r"\bpplx-[A-Za-z0-9]{48}\b", 0, 50, token_value, &["perplexity"]),
    ("huggingface_token", "Hugging Face access or organisation token (hf_/api_org_ + 34 letters)", &["hf_", "api_org_"], r"\b(?:hf|api_org)_[A-Za-z]{34}\b", 0, 40, token_medium, &["huggingface", "hugging face", "hf_token"]),
    ("postman_api_key", "Postman API key (PMAK- + 24 hex - 34 hex)", &["PMAK-"], r"\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}\b", 0, 64, token_value, &["postman"]),
    ("sentry_token", "Sentry user or organisation auth token (sntryu_ + 64 hex, sntrys_ + base64)", &["sntryu_", "sntrys_"], r"\bsntry(?:u_[a-f0-9]{64}|s_[A-Za-z0-9+/=_]{60,300})", 0, 310, token_value, &["sentry"]),
    ("grafana_token", "Grafana service-account or Cloud token (glsa_ + 32 + _ + 8 hex, glc_ + base64)", &["glsa_", "glc_"], r"\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,300}={0,3})", 0, 310, token_value, &["grafana"]),
    ("prefect_api_key", "Prefect API key (pnu_ + 36 characters)", &["pnu_"], r"\bpnu_[A-Za-z0-9]{36}\b", 0, 40, token_value, &["prefect"]),
    ("pulumi_token", "Pulumi access token (pul- + 40 hex)", &["pul-"], r"\bpul-[a-f0-9]{40}\b", 0, 44, token_value, &["pulumi"]),
    ("rubygems_api_key", "RubyGems API key (rubygems_ + 48 hex)", &["rubygems_"], r"\brubygems_[a-f0-9]{48}\b", 0, 50, token_value, &["rubygems", "gem"]),
    ("age_secret_key", "age encryption secret key (AGE-SECRET-KEY-1 + 58 bech32 characters)", &["AGE-SECRET-KEY-1"], r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", 0, 60, token_value, &["age-keygen", "age secret"]),
    ("dynatrace_token", "Dynatrace API token (dt0c01. + 24 . + 64 characters)", &["dt0c01."], r"\bdt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}\b", 0, 92, token_value, &["dynatrace"]),
    ("doppler_token", "Doppler API token (dp.pt./dp.st./dp.sa./dp.ct. + 40-44 characters)", &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct."], r"\bdp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,44}\b", 0, 48, token_value, &["doppler"]),
    ("planetscale_token", "PlanetScale token or password (pscale_tkn_/pscale_pw_/pscale_oauth_ + 32-64 characters)", &["pscale_tkn_", "pscale_pw_", "pscale_oauth_"], r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.\-]{32,64}", 0, 70, token_value, &["planetscale"]),
    ("brevo_api_key", "Brevo (Sendinblue) API key (xkeysib- + 64 hex - 16 characters)", &["xkeysib-"], r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b", 0, 84, token_value, &["brevo", "sendinblue"]),
    ("easypost_api_key", "EasyPost production or test API key (EZAK/EZTK + 54 characters)", &["EZAK", "EZTK"], r"\bEZ[AT]K[A-Za-z0-9]{54}\b", 0, 56, token_value, &["easypost"]),
    ("flutterwave_secret_key", "Flutterwave secret key (FLWSECK- or FLWSECK_TEST- + 32 hex + -X)", &["FLWSECK"], r"\bFLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X\b", 0, 50, token_value, &["flutterwave"]),
    ("shippo_token", "Shippo API token (shippo_live_/shippo_test_ + 40 hex)", &["shippo_"], r"\bshippo_(?:live|test)_[a-fA-F0-9]{40}\b", 0, 50, token_value, &["shippo"]),
    ("duffel_token", "Duffel API token (duffel_live_/duffel_test_ + 43 characters)", &["duffel_"], r"\bduffel_(?:live|test)_[A-Za-z0-9_\-=]{43}", 0, 50, token_value, &["duffel"]),
    ("square_token", "Square access token or OAuth secret (sq0atp-/EAAA, sq0csp-)", &["sq0atp-", "sq0csp-", "EAAA"], r"\b(?:sq0atp-[A-Za-z0-9_\-]{22}|sq0csp-[A-Za-z0-9_\-]{43}|EAAA[A-Za-z0-9_\-]{60})\b", 0, 70, token_value, &["square"]),
    ("facebook_access_token", "Facebook (Meta) page or user access token (EAAC/EAAM + 100+ characters)", &["EAAC", "EAAM"], r"\bEAA[CM][A-Za-z0-9]{100,300}\b", 0, 310, token_value, &["facebook", "meta", "graph"]),
    ("alibaba_access_key_id", "Alibaba Cloud AccessKey ID (LTAI + 12-20 characters)", &["LTAI"], r"\bLTAI[A-Za-z0-9]{12,20}\b", 0, 24, token_value, &["alibaba", "aliyun"]),
    ("tencent_secret_id", "Tencent Cloud SecretId (AKID + 32 characters)", &["AKID"], r"\bAKID[A-Za-z0-9]{32}\b", 0, 36, token_value, &["tencent", "secretid"]),
    ("notion_token", "Notion integration token (ntn_ + 11 digits + 35 characters)", &["ntn_"], r"\bntn_[0-9]{11}[A-Za-z0-9]{35}\b", 0, 50, token_value, &["notion"]),
    ("heroku_api_key", "Heroku API key, 2024 format (HRKU-AA + 58 characters)", &["HRKU-AA"], r"\bHRKU-AA[0-9A-Za-z_\-]{58}\b", 0, 60, token_value, &["heroku"]),
    ("clojars_token", "Clojars deploy token (CLOJARS_ + 60 characters)", &["CLOJARS_"], r"\bCLOJARS_[a-z0-9]{60}\b", 0, 62, token_value, &["clojars"]),
    ("readme_api_key", "ReadMe API key (rdme_ + 70 characters)", &["rdme_"], r"\brdme_[a-z0-9]{70}\b", 0, 72, token_value, &["readme"]),
    ("frameio_token", "Frame.io developer token (fio-u- + 64 characters)", &["fio-u-"], r"\bfio-u-[A-Za-z0-9_=\-]{64}", 0, 66, token_value, &["frame.io", "frameio"]),
    ("mailchimp_api_key", "Mailchimp API key (32 hex + -us + data-centre number)", &["-us"], r"\b[a-f0-9]{32}-us[0-9]{1,2}\b", 32, 5, token_value, &["mailchimp"]),
    ("onepassword_secret_key", "1Password account secret key (A3- + grouped characters)", &["A3-"], r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b", 0, 44, token_value, &["1password", "secret key"]),
    ("artifactory_token", "JFrog Artifactory API key (AKCp + 69 characters)", &["AKCp"], r"\bAKCp[A-Za-z0-9]{69}\b", 0, 70, token_value, &["artifactory", "jfrog"]),
    ("tailscale_key", "Tailscale auth or API key (tskey-auth-/tskey-api-/tskey-client-...)", &["tskey-"], r"\btskey-[a-z]{3,8}-[A-Za-z0-9]{8,20}-[A-Za-z0-9]{20,40}\b", 0, 80, token_value, &["tailscale"]),
    ("openshift_token", "OpenShift user token (sha256~ + 43 characters)", &["sha256~"], r"\bsha256~[A-Za-z0-9_\-]{43}", 0, 44, token_value, &["openshift", "oc login"]),
    ("infracost_api_key", "Infracost API key (ico- + 32 characters)", &["ico-"], r"\bico-[A-Za-z0-9]{32}\b", 0, 34, token_medium, &["infracost"]),
    ("teams_webhook", "Microsoft Teams incoming webhook URL", &[".webhook.office.com/"], r"https://[a-z0-9\-]{1,40}\.webhook\.office\.com/webhookb2/[a-f0-9\-]{36}@[a-f0-9\-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9\-]{36}", 48, 200, token_value, &["teams", "webhook"]),
    ("discord_webhook", "Discord webhook URL (id and token)", &["/api/webhooks/"], r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68}", 34, 92, token_value, &["discord", "webhook"]),
    ("telegram_bot_token", "Telegram bot token (bot id:AA + 33 characters)", &[":AA"], r"\b[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}\b", 10, 36, token_value, &["telegram", "bot"]),
    ("new_relic_key", "New Relic user, insert or browser key (NRAK-/NRII-/NRJS-)", &["NRAK-", "NRII-", "NRJS-"], r"\bNR(?:AK-[A-Z0-9]{27}|II-[A-Za-z0-9\-]{32}|JS-[a-f0-9]{19})\b", 0, 38, token_value, &["new relic", "newrelic"]),
    ("cloudflare_origin_ca_key", "Cloudflare Origin CA key (v1.0- + 24 hex - 146 hex)", &["v1.0-"], r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b", 0, 176, token_value, &["cloudflare"]),
    ("mapbox_secret_token", "Mapbox secret access token (sk.eyJ... . 22 characters)", &["sk.eyJ"], r"\bsk\.eyJ[A-Za-z0-9_\-]{50,100}\.[A-Za-z0-9_\-]{22}\b", 0, 130, token_value, &["mapbox"]),
    ("typeform_token", "Typeform personal access token (tfp_ + 59 characters)", &["tfp_"], r"\btfp_[A-Za-z0-9_\-=.]{59}", 0, 60, token_value, &["typeform"]),
    ("contentful_token", "Contentful personal access token (CFPAT- + 43 characters)", &["CFPAT-"], r"\bCFPAT-[A-Za-z0-9_\-]{43}\b", 0, 44, token_value, &["contentful"]),
    ("groq_api_key", "Groq API key (gsk_ + 52 characters)", &["gsk_"], r"\bgsk_[A-Za-z0-9]{52}\b", 0, 54, token_value, &["groq"]),
    ("replicate_token", "Replicate API token (r8_ + 37 characters)", &["r8_"], r"\br8_[A-Za-z0-9]{37}\b", 0, 40, token_value, &["replicate"]),
    ("langsmith_api_key", "LangSmith API key (lsv2_pt_/lsv2_sk_ + 32 hex _ 10 hex)", &["lsv2_"], r"\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b", 0, 50, token_value, &["langsmith", "langchain"]),
    ("xai_api_key", "xAI API key (xai- + 80 characters)", &["xai-"], r"\bxai-[A-Za-z0-9]{80}\b", 0, 82, token_value, &["xai", "grok"]),
    ("supabase_token", "Supabase personal access token (sbp_ + 40 hex)", &["sbp_"], r"\bsbp_[a-f0-9]{40}\b", 0, 42, token_value, &["supabase"]),
    ("figma_token", "Figma personal access token (figd_ + 40 characters)", &["figd_"], r"\bfigd_[A-Za-z0-9_\-]{40}", 0, 42, token_value, &["figma"]),
    ("flyio_token", "Fly.io access token (fo1_ + 43 characters)", &["fo1_"], r"\bfo1_[A-Za-z0-9_\-]{43}", 0, 44, token_value, &["fly.io", "flyctl"]),
    ("octopus_deploy_api_key", "Octopus Deploy API key (API- + 26 characters)", &["API-"], r"\bAPI-[A-Z0-9]{26}\b", 0, 28, token_medium, &["octopus"]),
    ("maxmind_license_key", "MaxMind license key (6 _ 29 _mmk)", &["_mmk"], r"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b", 37, 2, token_value, &["maxmind", "geoip"]),
    ("azure_shared_access_key", "Azure Service Bus / Event Hubs / IoT Hub shared access key in a connection string (SharedAccessKey= + 44 base64 characters)", &["SharedAccessKey="], r"SharedAccessKey=[A-Za-z0-9+/]{42,43}=", 0, 60, token_value, &["azure", "servicebus", "eventhub", "endpoint"]),
    ("azure_sas_token", "Azure shared access signature (a URL's sig= of an HMAC-SHA256 in base64)", &["&sig="], r"&sig=[A-Za-z0-9%+/]{40,60}(?:%3D|=)", 0, 70, token_medium, &["azure", "blob.core.windows.net", "sv=", "sas"]),
    ("bitbucket_app_password", "Bitbucket app password / Atlassian API token for Bitbucket (ATBB + 32 characters)", &["ATBB"], r"\bATBB[A-Za-z0-9_\-=.]{32,40}\b", 0, 44, token_value, &["bitbucket"]),
    ("gcs_hmac_access_id", "Google Cloud Storage HMAC key access id (GOOG1 + 56 characters)", &["GOOG1"], r"\bGOOG1[A-Z0-9]{56}\b", 0, 60, token_value, &["gcs", "hmac", "google cloud storage"]),
    ("braintree_access_token", "Braintree (PayPal) access token (access_token$production$ + 16 $ 32 hex)", &["access_token$production$"], r"access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}", 0, 60, token_value, &["braintree", "paypal"]),
    ("yandex_api_key", "Yandex Cloud API key (AQVN + 35-38 characters)", &["AQVN"], r"\bAQVN[A-Za-z0-9_\-]{35,38}\b", 0, 40, token_value, &["yandex"]),
];

/// The cloud and SaaS credential detectors, in table order.
pub(super) fn saas_detectors() -> Vec<Predefined> {
    ROWS.iter()
        .map(
            |&(id, description, literals, pattern, before, after, check, context)| Predefined {
                id,
                description,
                category: Category::Credentials,
                validation: "documented prefix, length and alphabet (in the description); placeholders and low entropy rejected",
                context,
                kind: Kind::Anchored {
                    literals,
                    pattern,
                    before,
                    left: None,
                    matcher: None,
                    after,
                    check,
                },
                reveal: (4, 0),
            },
        )
        .collect()
}
