//! Golden values: the genesis hash and the state root at height 0 of a fixed
//! genesis. A change here changes every chain's identity; if it is intended,
//! update the constants in the same change and say so.

// Tests fail by panicking; the workspace's no-panic lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::state::{EnterpriseStatus, StateExt};
use assent_contracts::{Height, Timestamp};
use assent_genesis::{
    default_p2p_address, devnet_genesis, DevnetEnterprise, DevnetSpec, DevnetValidator, Genesis,
    DEVNET_CHAIN_ID,
};
use common::key;

/// A small two-validator genesis, kept here rather than in examples/ so that
/// editing an example does not move the pins.
const PINNED: &str = r#"
chain_id = "assent-devnet-1"
genesis_time = "2026-11-22T00:00:00Z"
mint_authority = "assent132yw8ht5p8cetl2jmvknewjawt9xwzdlrk2pyxlnwjyqrdq0dawq2t8sce"

[[operators]]
name = "Operator A"
account = "assent1syuhwr4g05t4744r23nvxnr7en9cmz53knhr0gja7c84hr7fkw2qkr2a70"

[[operators]]
name = "Operator B"
account = "assent1e2f6c9c9rpc8r4nms0rl7rh7syyw3mz9xpt46aexs7fn8k76he7q6hy2pz"

[[validators]]
name = "validator-0"
consensus_key = "assent1a4yj333g68pvd6hfqvufqkv4vy54jfe6t33ljd3kc9rpfty8xlgsqkplqy"
p2p_address = "/ip4/127.0.0.1/tcp/26600"
operator = "assent1syuhwr4g05t4744r23nvxnr7en9cmz53knhr0gja7c84hr7fkw2qkr2a70"

[[validators]]
name = "validator-1"
consensus_key = "assent1deapehffkzmcl5f67nz4nrl07nhj49ckdc72duhyl07vmqzst0cscgmpln"
power = 3
p2p_address = "/ip4/127.0.0.1/tcp/26610"
operator = "assent1e2f6c9c9rpc8r4nms0rl7rh7syyw3mz9xpt46aexs7fn8k76he7q6hy2pz"

[[enterprises]]
name = "Acme Retail"
account = "assent1gwnjuu2yq9mzmantdrpxm77ly6p24myly36wefrp8epy5ra6l57qc0wew9"
sector = "retail"
jurisdiction = "EU"
policy_url = "https://acme-retail.example/privacy"

[[balances]]
account = "assent1gwnjuu2yq9mzmantdrpxm77ly6p24myly36wefrp8epy5ra6l57qc0wew9"
amount = 1000000
"#;

const PINNED_HASH: &str = "b9c14511d77629d18e05a20dc9e7f5c0e32574d1a7a4e8e14303415ad6bd579e";
// Re-pinned when the state tree's nodes and leaves became one SHA-256
// compression (ARCHITECTURE decision 10, 2026-12-05); the genesis hash is unchanged.
const PINNED_ROOT: &str = "8a0c26b62a7b4029d9c68f0146abb53ac9064145e766ab018b716effa553e47f";

#[test]
fn genesis_hash_and_state_root_are_pinned() {
    let g = Genesis::from_toml_str(PINNED).expect("valid");
    assert_eq!(g.hash().to_string(), PINNED_HASH, "genesis hash moved");
    assert_eq!(
        g.state_root().to_string(),
        PINNED_ROOT,
        "genesis state root moved"
    );
    let (_, root) = g.initial_state().writes().expect("builds");
    assert_eq!(root, g.state_root());
}

#[test]
fn initial_state_holds_the_genesis() {
    let g = Genesis::from_toml_str(PINNED).expect("valid");
    let (store, _) = g.initial_state().to_mem_store().expect("builds");
    let acme = store.enterprise(&key(10)).expect("read").expect("admitted");
    assert_eq!(acme.name, "Acme Retail");
    assert_eq!(acme.status, EnterpriseStatus::Active);
    assert_eq!(acme.admitted_at, Height(0));
    assert_eq!(acme.jurisdiction, "EU");
    assert_eq!(store.account(&key(10)).expect("read").balance.0, 1_000_000);
    let vals = store.validators().expect("read");
    assert_eq!(vals.len(), 2);
    assert_eq!(vals.iter().map(|v| v.power).sum::<u64>(), 4);
    assert!(store.is_operator(&key(4)).expect("read"));
    assert!(!store.is_operator(&key(10)).expect("read"));
}

fn devnet_spec(n: u8) -> DevnetSpec {
    DevnetSpec {
        chain_id: DEVNET_CHAIN_ID.into(),
        genesis_time: Timestamp(1_795_305_600_000),
        mint_authority: key(1),
        validators: (0..n)
            .map(|i| DevnetValidator {
                name: format!("validator-{i}"),
                operator_name: format!("operator-{i}"),
                consensus_key: key(100 + i),
                operator_account: key(150 + i),
                p2p_address: default_p2p_address(usize::from(i)),
            })
            .collect(),
        enterprise: Some(DevnetEnterprise::acme_retail(key(10))),
    }
}

// Re-pinned when the devnet gained `[referral]` (decision 29); PINNED above,
// a genesis without it, kept its hash and root.
const PINNED_DEVNET_HASH: &str = "064578904b897ff65a1f52de8777e1e64e95ea7563bc3642968bc3dabe68f710";

#[test]
fn devnet_genesis_is_pinned_and_usable() {
    let g = devnet_genesis(&devnet_spec(4)).expect("valid");
    assert_eq!(
        g.hash().to_string(),
        PINNED_DEVNET_HASH,
        "devnet genesis hash moved"
    );
    assert_eq!(g.validators().len(), 4);
    assert_eq!(g.operators().len(), 4);
    assert_eq!(
        g.referral_terms(),
        Some(&assent_contracts::state::ReferralTerms::default())
    );
    assert_eq!(g.operators()[2].name, "operator-2");
    assert_eq!(g.validators()[3].p2p_address, "/ip4/127.0.0.1/tcp/26630");
    let acme = &g.enterprises()[0];
    assert_eq!(
        (
            acme.name.as_str(),
            acme.sector.name(),
            acme.jurisdiction.as_str()
        ),
        ("Acme Retail", "retail", "EU")
    );
    assert_eq!(g.total_supply().0, 1_000_000);
    assert_eq!(g.genesis_time(), Timestamp(1_795_305_600_000));
    // What `assent genesis new` writes loads back to the same chain.
    let back = Genesis::from_toml_str(&g.to_toml_string()).expect("loads");
    assert_eq!(back.hash(), g.hash());
}

#[test]
fn devnet_validators_may_share_an_operator() {
    let mut spec = devnet_spec(3);
    for v in &mut spec.validators {
        v.operator_account = key(150);
    }
    spec.enterprise = None;
    let g = devnet_genesis(&spec).expect("valid");
    assert_eq!(g.operators().len(), 1);
    assert!(g.enterprises().is_empty() && g.balances().is_empty());
}

#[test]
fn a_bad_devnet_spec_gets_the_usual_errors() {
    let mut spec = devnet_spec(2);
    spec.validators[1].consensus_key = spec.validators[0].consensus_key;
    let err = devnet_genesis(&spec).unwrap_err().to_string();
    assert!(
        err.starts_with("validators[1].consensus_key: duplicate of validators[0]"),
        "{err}"
    );
    let mut spec = devnet_spec(0);
    spec.validators.clear();
    assert!(devnet_genesis(&spec)
        .unwrap_err()
        .to_string()
        .starts_with("operators:"));
}

#[test]
fn default_p2p_addresses_are_spaced_and_never_overflow() {
    assert_eq!(default_p2p_address(0), "/ip4/127.0.0.1/tcp/26600");
    assert_eq!(default_p2p_address(1), "/ip4/127.0.0.1/tcp/26610");
    assert_eq!(default_p2p_address(usize::MAX), "/ip4/127.0.0.1/tcp/65530");
}
