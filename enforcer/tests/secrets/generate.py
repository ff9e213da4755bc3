#!/usr/bin/env python3
"""Writes the generated part of cases.txt (python3, standard library only).

Run from this directory: python3 generate.py > generated.txt
Each line is `expect | detector | text | source`. Bodies are random
(seeded, so the file is reproducible) in the format the source documents;
every detector also gets a placeholder and a truncated value as hard
negatives.
"""
import random
import string
import zlib

rng = random.Random(20)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def r(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def b62(n):
    out = ""
    for _ in range(6):
        out = B62[n % 62] + out
        n //= 62
    return out


def gh(prefix):
    body = r(ALNUM, 30)
    return prefix + body + b62(zlib.crc32(body.encode()))


# detector, value, context, source
ROWS = [
    ("anthropic_api_key", "sk-ant-api03-" + r(ALNUM + "-_", 93) + "AA", "ANTHROPIC_API_KEY=", "gitleaks-anthropic"),
    ("anthropic_api_key", "sk-ant-admin01-" + r(ALNUM + "-_", 93) + "AA", "key: ", "gitleaks-anthropic"),
    ("azure_storage_account_key", "AccountKey=" + r(ALNUM + "+/", 86) + "==", "DefaultEndpointsProtocol=https;AccountName=acct;", "ms-storage-connection-string"),
    ("gcp_service_account_key_id", '"private_key_id": "' + r(HEX, 40) + '"', '{"type": "service_account", ', "gcp-service-account-key"),
    ("google_oauth_client_secret", "GOCSPX-" + r(ALNUM + "-_", 28), "client_secret=", "google-oauth"),
    ("google_oauth_access_token", "ya29." + r(ALNUM + "-_", 120), "Authorization: Bearer ", "google-oauth"),
    ("stripe_webhook_secret", "whsec_" + r(ALNUM, 32), "STRIPE_WEBHOOK_SECRET=", "stripe-webhooks"),
    ("docker_hub_pat", "dckr_pat_" + r(ALNUM + "-_", 27), "docker login -u me -p ", "docker-pat"),
    ("databricks_token", "dapi" + r(HEX, 32), "DATABRICKS_TOKEN=", "gitleaks-databricks"),
    ("shopify_token", "shpat_" + r(HEX, 32), "X-Shopify-Access-Token: ", "gitleaks-shopify"),
    ("shopify_token", "shpss_" + r(HEX, 32), "shared secret ", "gitleaks-shopify"),
    ("hashicorp_vault_token", "hvs." + r(ALNUM + "-_", 95), "VAULT_TOKEN=", "vault-tokens"),
    ("terraform_cloud_token", r(ALNUM, 14) + ".atlasv1." + r(ALNUM + "-_", 67), "token = ", "gitleaks-hashicorp"),
    ("digitalocean_token", "dop_v1_" + r(HEX, 64), "DIGITALOCEAN_TOKEN=", "gitleaks-digitalocean"),
    ("linear_api_key", "lin_api_" + r(ALNUM, 40), "LINEAR_API_KEY=", "gitleaks-linear"),
    ("postman_api_key", "PMAK-" + r(HEX, 24) + "-" + r(HEX, 34), "x-api-key: ", "gitleaks-postman"),
    ("sentry_token", "sntryu_" + r(HEX, 64), "SENTRY_AUTH_TOKEN=", "gitleaks-sentry"),
    ("grafana_token", "glsa_" + r(ALNUM, 32) + "_" + r(HEX, 8), "GRAFANA_TOKEN=", "gitleaks-grafana"),
    ("prefect_api_key", "pnu_" + r(ALNUM, 36), "PREFECT_API_KEY=", "gitleaks-prefect"),
    ("pulumi_token", "pul-" + r(HEX, 40), "PULUMI_ACCESS_TOKEN=", "gitleaks-pulumi"),
    ("rubygems_api_key", "rubygems_" + r(HEX, 48), ":rubygems_api_key: ", "gitleaks-rubygems"),
    ("age_secret_key", "AGE-SECRET-KEY-1" + r("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), "# secret: ", "age-spec"),
    ("dynatrace_token", "dt0c01." + r(ALNUM, 24) + "." + r(ALNUM, 64), "Api-Token ", "gitleaks-dynatrace"),
    ("doppler_token", "dp.pt." + r(ALNUM, 43), "DOPPLER_TOKEN=", "gitleaks-doppler"),
    ("planetscale_token", "pscale_tkn_" + r(ALNUM, 43), "PLANETSCALE_TOKEN=", "gitleaks-planetscale"),
    ("brevo_api_key", "xkeysib-" + r(HEX, 64) + "-" + r(ALNUM, 16), "api-key: ", "gitleaks-sendinblue"),
    ("easypost_api_key", "EZAK" + r(ALNUM, 54), "EASYPOST_API_KEY=", "gitleaks-easypost"),
    ("flutterwave_secret_key", "FLWSECK_TEST-" + r("abcdefgh0123456789", 32) + "-X", "FLW_SECRET_KEY=", "gitleaks-flutterwave"),
    ("shippo_token", "shippo_live_" + r(HEX, 40), "SHIPPO_TOKEN=", "gitleaks-shippo"),
    ("duffel_token", "duffel_test_" + r(ALNUM, 43), "DUFFEL_TOKEN=", "gitleaks-duffel"),
    ("square_token", "sq0atp-" + r(ALNUM + "-_", 22), "SQUARE_ACCESS_TOKEN=", "gitleaks-square"),
    ("facebook_access_token", "EAAC" + r(ALNUM, 150), "access_token=", "gitleaks-facebook"),
    ("alibaba_access_key_id", "LTAI" + r(ALNUM, 20), "AccessKeyId: ", "gitleaks-alibaba"),
    ("tencent_secret_id", "AKID" + r(ALNUM, 32), "SecretId=", "trufflehog-tencent"),
    ("notion_token", "ntn_" + r(string.digits, 11) + r(ALNUM, 35), "NOTION_TOKEN=", "gitleaks-notion"),
    ("heroku_api_key", "HRKU-AA" + r(ALNUM + "-_", 58), "HEROKU_API_KEY=", "gitleaks-heroku"),
    ("clojars_token", "CLOJARS_" + r(string.ascii_lowercase + string.digits, 60), "password ", "gitleaks-clojars"),
    ("readme_api_key", "rdme_" + r(string.ascii_lowercase + string.digits, 70), "README_API_KEY=", "gitleaks-readme"),
    ("frameio_token", "fio-u-" + r(ALNUM, 64), "FRAMEIO_TOKEN=", "gitleaks-frameio"),
    ("mailchimp_api_key", r(HEX, 32) + "-us14", "mailchimp key ", "gitleaks-mailchimp"),
    ("onepassword_secret_key", "A3-" + r(string.ascii_uppercase + string.digits, 6) + "-" + r(string.ascii_uppercase + string.digits, 11) + "-" + r(string.ascii_uppercase + string.digits, 5) + "-" + r(string.ascii_uppercase + string.digits, 5) + "-" + r(string.ascii_uppercase + string.digits, 5), "secret key ", "gitleaks-1password"),
    ("artifactory_token", "AKCp" + r(ALNUM, 69), "X-JFrog-Art-Api: ", "gitleaks-artifactory"),
    ("tailscale_key", "tskey-auth-" + r(ALNUM, 12) + "CNTRL-" + r(ALNUM, 32), "TS_AUTHKEY=", "tailscale-keys"),
    ("openshift_token", "sha256~" + r(ALNUM + "-_", 43), "oc login --token=", "gitleaks-openshift"),
    ("infracost_api_key", "ico-" + r(ALNUM, 32), "INFRACOST_API_KEY=", "gitleaks-infracost"),
    ("teams_webhook", "https://contoso.webhook.office.com/webhookb2/" + "-".join(r(HEX, n) for n in (8, 4, 4, 4, 12)) + "@" + "-".join(r(HEX, n) for n in (8, 4, 4, 4, 12)) + "/IncomingWebhook/" + r(HEX, 32) + "/" + "-".join(r(HEX, n) for n in (8, 4, 4, 4, 12)), "webhook: ", "gitleaks-teams"),
    ("discord_webhook", "https://discord.com/api/webhooks/" + r(string.digits, 18) + "/" + r(ALNUM + "-_", 68), "url = ", "discord-webhooks"),
    ("telegram_bot_token", r(string.digits, 10) + ":AA" + r(ALNUM + "-_", 33), "TELEGRAM_BOT_TOKEN=", "telegram-bot-api"),
    ("new_relic_key", "NRAK-" + r(string.ascii_uppercase + string.digits, 27), "NEW_RELIC_API_KEY=", "gitleaks-newrelic"),
    ("cloudflare_origin_ca_key", "v1.0-" + r(HEX, 24) + "-" + r(HEX, 146), "CF_ORIGIN_CA_KEY=", "gitleaks-cloudflare"),
    ("mapbox_secret_token", "sk.eyJ" + r(ALNUM, 70) + "." + r(ALNUM, 22), "MAPBOX_SECRET=", "mapbox-tokens"),
    ("typeform_token", "tfp_" + r(ALNUM, 59), "TYPEFORM_TOKEN=", "gitleaks-typeform"),
    ("contentful_token", "CFPAT-" + r(ALNUM, 43), "CONTENTFUL_TOKEN=", "contentful-cma"),
    ("groq_api_key", "gsk_" + r(ALNUM, 52), "GROQ_API_KEY=", "groq-keys"),
    ("replicate_token", "r8_" + r(ALNUM, 37), "REPLICATE_API_TOKEN=", "replicate-tokens"),
    ("langsmith_api_key", "lsv2_pt_" + r(HEX, 32) + "_" + r(HEX, 10), "LANGSMITH_API_KEY=", "langsmith-keys"),
    ("xai_api_key", "xai-" + r(ALNUM, 80), "XAI_API_KEY=", "xai-keys"),
    ("supabase_token", "sbp_" + r(HEX, 40), "SUPABASE_ACCESS_TOKEN=", "supabase-pat"),
    ("figma_token", "figd_" + r(ALNUM + "-_", 40), "X-Figma-Token: ", "figma-pat"),
    ("flyio_token", "fo1_" + r(ALNUM + "-_", 43), "FLY_API_TOKEN=", "gitleaks-flyio"),
    ("octopus_deploy_api_key", "API-" + r(string.ascii_uppercase + string.digits, 26), "octopus key ", "gitleaks-octopus"),
    ("maxmind_license_key", r(ALNUM, 6) + "_" + r(ALNUM, 29) + "_mmk", "license_key ", "gitleaks-maxmind"),
    ("azure_shared_access_key", "SharedAccessKey=" + r(ALNUM + "+/", 43) + "=", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;", "ms-servicebus-connection-string"),
    ("azure_sas_token", "&sig=" + r(ALNUM, 43) + "%3D", "https://contoso.blob.core.windows.net/c/b.txt?sv=2022-11-02&se=2026-12-31&sr=b&sp=r", "ms-sas"),
    ("bitbucket_app_password", "ATBB" + r(ALNUM, 32), "BITBUCKET_APP_PASSWORD=", "atlassian-token-prefixes"),
    ("gcs_hmac_access_id", "GOOG1" + r(string.ascii_uppercase + string.digits, 56), "access_id: ", "gcs-hmac-keys"),
    ("braintree_access_token", "access_token$production$" + r(string.ascii_lowercase + string.digits, 16) + "$" + r(HEX, 32), "BT_ACCESS_TOKEN=", "braintree-access-token"),
    ("yandex_api_key", "AQVN" + r(ALNUM + "_-", 36), "yandex cloud key: ", "gitleaks-yandex"),
    ("npm_token", gh("npm_"), "//registry.npmjs.org/:_authToken=", "npm-token-format"),
    ("github_token", gh("ghp_"), "GITHUB_TOKEN=", "github-token-format"),
    ("github_token", gh("gho_"), "token ", "github-token-format"),
]

print("# generated by generate.py (seed 20): random bodies in documented formats")
for det, value, ctx, src in ROWS:
    print(f"High | {det} | {ctx}{value} | {src}")
    # Hard negatives: the same prefix with a placeholder body, and cut short.
    bare_prefix = next((p for p in ("AQVN", "ATBB", "GOOG1") if value.startswith(p)), None)
    if bare_prefix:
        prefix_len = len(bare_prefix)
    else:
        prefix_len = next((i for i, c in enumerate(value) if c in "_-.~:" and i >= 2), 4) + 1
    placeholder = value[:prefix_len] + "x" * (len(value) - prefix_len)
    print(f"none | {det} | {ctx}{placeholder} | placeholder")
    # (Formats of variable length stay valid when cut: no truncated case.)
    if det not in ("mailchimp_api_key", "maxmind_license_key", "terraform_cloud_token", "gcp_service_account_key_id", "google_oauth_access_token", "alibaba_access_key_id", "azure_sas_token", "bitbucket_app_password", "yandex_api_key"):
        print(f"none | {det} | {ctx}{value[: len(value) * 2 // 3]} | truncated")
# A GitHub token whose CRC-32 tail does not hold is only medium.
bad = gh("ghp_")
bad = bad[:-1] + ("A" if bad[-1] != "A" else "B")
print(f"Medium | github_token | GITHUB_TOKEN={bad} | github-token-format")
