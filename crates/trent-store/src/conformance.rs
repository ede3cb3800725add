//! The conformance suite every [`Store`] backend must pass.
//!
//! Each check is an `async fn` that panics with a message naming the violated behaviour.
//! [`run_all`] runs every check. The checks create fresh random accounts, key ids and setting
//! names, so they can run against a store that already holds data (and more than once).
//!
//! Contract details pinned down here beyond the trait's docs:
//! - `add_material` for a key that does not exist fails with `NotFound`;
//! - `create_key` whose material belongs to another (missing) key fails and stores nothing;
//! - `update_key` matches on (region, key id), ignores the input `seq` and keeps the stored one.

use std::collections::BTreeMap;

use trent_types::{AccountId, KeyId, KeyMaterialId, KeySpec, KeyState, KeyUsage, Origin, Region};

use crate::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AliasRecord, GrantConstraintsRecord,
    GrantCreation, GrantFilter, GrantRecord, KeyRecord, KeyUsageRecord, MaterialRecord,
    MaterialSource, RoleRecord, RotationRecord, Store, StoreError, StoreResult, UserRecord,
};

/// Runs every check of the suite against `store`.
pub async fn run_all(store: &dyn Store) {
    accounts_create_get_list_and_reject_duplicates(store).await;
    users_create_get_and_reject_duplicates(store).await;
    access_keys_create_get_and_reject_duplicates(store).await;
    keys_create_with_and_without_material_and_reject_duplicates(store).await;
    same_key_id_is_allowed_in_another_region(store).await;
    create_key_is_atomic(store).await;
    update_key_round_trips_every_field(store).await;
    update_missing_key_is_not_found(store).await;
    list_keys_filters_by_account_and_region_in_seq_order(store).await;
    list_keys_pages_with_after_seq_and_limit(store).await;
    list_keys_markers_stay_valid_while_keys_are_added(store).await;
    materials_add_get_list_oldest_first_and_reject_duplicates(store).await;
    settings_get_put_and_overwrite(store).await;
    update_key_with_a_stale_version_is_a_conflict(store).await;
    rotate_key_adds_material_and_updates_key_atomically(store).await;
    delete_key_removes_material_tags_aliases_and_usage(store).await;
    list_keys_due_finds_due_deletions_and_rotations_only(store).await;
    aliases_create_get_update_delete_and_list_in_name_order(store).await;
    key_usage_is_replaced_per_key(store).await;
    leases_are_exclusive_until_they_expire(store).await;
    user_policies_are_replaced_by_name_and_listed_in_name_order(store).await;
    users_list_in_name_order_and_delete_with_their_tags(store).await;
    user_policies_delete_and_missing_is_not_found(store).await;
    user_tags_add_replace_remove_and_stay_in_their_account(store).await;
    access_keys_list_per_user_and_delete(store).await;
    grants_create_get_find_by_token_and_delete(store).await;
    grants_reject_a_missing_key_and_duplicate_ids(store).await;
    grant_names_are_idempotent_only_for_identical_parameters(store).await;
    grants_per_key_are_limited_atomically(store).await;
    list_grants_filters_and_pages_in_seq_order(store).await;
    list_grants_for_grantee_and_key_finds_only_those_grantees(store).await;
    list_retirable_grants_spans_keys_and_accounts_of_a_region(store).await;
    delete_key_removes_its_grants_and_their_tokens(store).await;
    roles_create_get_update_and_reject_duplicates(store).await;
    roles_list_in_name_order_and_delete_with_their_tags(store).await;
    role_policies_and_tags_are_kept_per_role_and_account(store).await;
}

// ---- helpers ----

fn ok<T>(result: StoreResult<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("store conformance: {what} failed: {e}"),
    }
}

fn expect_already_exists<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::AlreadyExists) => {}
        other => panic!("store conformance: {what} must fail with AlreadyExists, got {other:?}"),
    }
}

fn expect_not_found<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("store conformance: {what} must fail with NotFound, got {other:?}"),
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let id = KeyId::new_random();
        let len = chunk.len();
        chunk.copy_from_slice(&id.as_bytes()[..len]);
    }
    out
}

fn random_u64() -> u64 {
    u64::from_le_bytes(random_bytes::<8>())
}

fn random_hex(len: usize) -> String {
    let bytes = random_bytes::<32>();
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(len)
        .collect()
}

/// A random 12-digit account id that does not start with 0.
fn random_account_id() -> AccountId {
    let value = 100_000_000_000 + random_u64() % 900_000_000_000;
    match AccountId::from_u64(value) {
        Ok(id) => id,
        Err(e) => panic!("store conformance: building an account id: {e}"),
    }
}

fn region(name: &str) -> Region {
    match name.parse() {
        Ok(r) => r,
        Err(e) => panic!("store conformance: bad region literal: {e}"),
    }
}

fn random_material_id() -> KeyMaterialId {
    KeyMaterialId::from_bytes(random_bytes::<32>())
}

fn sample_key(account: &AccountId, region: &Region) -> KeyRecord {
    KeyRecord {
        seq: 0,
        key_id: KeyId::new_random(),
        account: account.clone(),
        region: region.clone(),
        created_at_ms: 1_700_000_000_000,
        description: "conformance key".to_owned(),
        key_spec: KeySpec::SymmetricDefault,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        key_state: KeyState::Enabled,
        deletion_date_ms: None,
        policy: "{\"Version\":\"2012-10-17\",\"Statement\":[]}".to_owned(),
        tags: Vec::new(),
        multi_region: false,
        current_material_id: None,
        rotation: RotationRecord::default(),
        version: 0,
    }
}

fn sample_material(key: &KeyRecord, source: MaterialSource, created_at_ms: i64) -> MaterialRecord {
    MaterialRecord {
        region: key.region.clone(),
        key_id: key.key_id,
        material_id: random_material_id(),
        wrapped: random_bytes::<32>().to_vec(),
        source,
        created_at_ms,
    }
}

async fn create_key_ok(
    store: &dyn Store,
    key: &KeyRecord,
    material: Option<&MaterialRecord>,
) -> KeyRecord {
    let seq = ok(store.create_key(key, material).await, "create_key");
    KeyRecord { seq, ..key.clone() }
}

async fn get_key_some(store: &dyn Store, key: &KeyRecord) -> KeyRecord {
    match ok(store.get_key(&key.region, &key.key_id).await, "get_key") {
        Some(k) => k,
        None => panic!(
            "store conformance: key {} in {} must exist",
            key.key_id, key.region
        ),
    }
}

fn ids(keys: &[KeyRecord]) -> Vec<KeyId> {
    keys.iter().map(|k| k.key_id).collect()
}

// ---- checks ----

/// Accounts: create, get, list (ordered by id), missing → `None`, duplicate id →
/// `AlreadyExists` without changing the stored record.
pub async fn accounts_create_get_list_and_reject_duplicates(store: &dyn Store) {
    let a = AccountRecord {
        id: random_account_id(),
        name: "conformance-a".to_owned(),
        created_at_ms: 1_700_000_000_001,
    };
    let b = AccountRecord {
        id: random_account_id(),
        name: "conformance-b".to_owned(),
        created_at_ms: 1_700_000_000_002,
    };
    ok(store.create_account(&a).await, "create_account");
    ok(store.create_account(&b).await, "create_account");
    assert_eq!(
        ok(store.get_account(&a.id).await, "get_account"),
        Some(a.clone()),
        "store conformance: get_account must return the created account"
    );
    let missing = random_account_id();
    assert_eq!(
        ok(store.get_account(&missing).await, "get_account (missing)"),
        None,
        "store conformance: get_account of an unknown id must be None"
    );

    let list = ok(store.list_accounts().await, "list_accounts");
    assert!(
        list.contains(&a) && list.contains(&b),
        "store conformance: list_accounts must include every created account"
    );
    assert!(
        list.windows(2).all(|w| w[0].id < w[1].id),
        "store conformance: list_accounts must be ordered by id without duplicates"
    );

    let dup = AccountRecord {
        name: "conformance-dup".to_owned(),
        ..a.clone()
    };
    expect_already_exists(
        store.create_account(&dup).await,
        "create_account with a taken id",
    );
    assert_eq!(
        ok(store.get_account(&a.id).await, "get_account"),
        Some(a),
        "store conformance: a rejected duplicate account must not change the stored one"
    );
}

/// Users: create, get, missing → `None`, duplicate (account, name) → `AlreadyExists`; the same
/// name in another account is a different user.
pub async fn users_create_get_and_reject_duplicates(store: &dyn Store) {
    let account = random_account_id();
    let other_account = random_account_id();
    let user = UserRecord {
        account: account.clone(),
        user_name: "alice".to_owned(),
        user_id: format!("AIDA{}", random_hex(16).to_uppercase()),
        arn: format!("arn:aws:iam::{account}:user/team/alice"),
        path: "/team/".to_owned(),
        is_admin: true,
        created_at_ms: 1_700_000_000_003,
    };
    ok(store.create_user(&user).await, "create_user");
    assert_eq!(
        ok(store.get_user(&account, "alice").await, "get_user"),
        Some(user.clone()),
        "store conformance: get_user must return the created user"
    );
    assert_eq!(
        ok(store.get_user(&account, "bob").await, "get_user (missing)"),
        None,
        "store conformance: get_user of an unknown name must be None"
    );
    assert_eq!(
        ok(
            store.get_user(&other_account, "alice").await,
            "get_user (other account)"
        ),
        None,
        "store conformance: users are scoped to their account"
    );

    let dup = UserRecord {
        user_id: format!("AIDA{}", random_hex(16).to_uppercase()),
        is_admin: false,
        ..user.clone()
    };
    expect_already_exists(
        store.create_user(&dup).await,
        "create_user with a taken name",
    );
    assert_eq!(
        ok(store.get_user(&account, "alice").await, "get_user"),
        Some(user),
        "store conformance: a rejected duplicate user must not change the stored one"
    );

    let elsewhere = UserRecord {
        account: other_account.clone(),
        user_id: format!("AIDA{}", random_hex(16).to_uppercase()),
        arn: format!("arn:aws:iam::{other_account}:user/alice"),
        path: "/".to_owned(),
        is_admin: false,
        user_name: "alice".to_owned(),
        created_at_ms: 1_700_000_000_004,
    };
    ok(
        store.create_user(&elsewhere).await,
        "create_user with the same name in another account",
    );
    assert_eq!(
        ok(store.get_user(&other_account, "alice").await, "get_user"),
        Some(elsewhere),
        "store conformance: get_user must return the user of the asked account"
    );
}

/// Access keys: create, get (opaque secret bytes and status intact), missing → `None`,
/// duplicate id → `AlreadyExists`.
pub async fn access_keys_create_get_and_reject_duplicates(store: &dyn Store) {
    let account = random_account_id();
    let active = AccessKeyRecord {
        access_key_id: format!("AKIA{}", random_hex(16).to_uppercase()),
        account: account.clone(),
        user_name: "alice".to_owned(),
        wrapped_secret: vec![0, 1, 2, 255, 0, 128, 7],
        status: AccessKeyStatus::Active,
        created_at_ms: 1_700_000_000_005,
    };
    let inactive = AccessKeyRecord {
        access_key_id: format!("AKIA{}", random_hex(16).to_uppercase()),
        wrapped_secret: random_bytes::<32>().to_vec(),
        status: AccessKeyStatus::Inactive,
        ..active.clone()
    };
    ok(store.create_access_key(&active).await, "create_access_key");
    ok(
        store.create_access_key(&inactive).await,
        "create_access_key",
    );
    assert_eq!(
        ok(
            store.get_access_key(&active.access_key_id).await,
            "get_access_key"
        ),
        Some(active.clone()),
        "store conformance: get_access_key must return the created key"
    );
    assert_eq!(
        ok(
            store.get_access_key(&inactive.access_key_id).await,
            "get_access_key"
        ),
        Some(inactive),
        "store conformance: get_access_key must keep the Inactive status"
    );
    let missing = format!("AKIA{}", random_hex(16).to_uppercase());
    assert_eq!(
        ok(
            store.get_access_key(&missing).await,
            "get_access_key (missing)"
        ),
        None,
        "store conformance: get_access_key of an unknown id must be None"
    );
    let dup = AccessKeyRecord {
        user_name: "mallory".to_owned(),
        wrapped_secret: vec![9; 16],
        ..active.clone()
    };
    expect_already_exists(
        store.create_access_key(&dup).await,
        "create_access_key with a taken id",
    );
    assert_eq!(
        ok(
            store.get_access_key(&active.access_key_id).await,
            "get_access_key"
        ),
        Some(active),
        "store conformance: a rejected duplicate access key must not change the stored one"
    );
}

/// Keys: create without and with an initial material, get back every field, seq increases,
/// multi-Region ids round-trip, missing → `None`, duplicate (region, key id) →
/// `AlreadyExists` and its material is not stored.
pub async fn keys_create_with_and_without_material_and_reject_duplicates(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");

    let plain = KeyRecord {
        key_state: KeyState::PendingImport,
        origin: Origin::External,
        ..sample_key(&account, &r)
    };
    let plain = create_key_ok(store, &plain, None).await;
    assert_eq!(
        get_key_some(store, &plain).await,
        plain,
        "store conformance: get_key must return the created key with the assigned seq"
    );
    assert!(
        ok(
            store.list_materials(&r, &plain.key_id).await,
            "list_materials"
        )
        .is_empty(),
        "store conformance: a key created without material has no materials"
    );

    let mut with_material = KeyRecord {
        key_id: KeyId::new_random_multi_region(),
        multi_region: true,
        key_spec: KeySpec::EccNistP256,
        key_usage: KeyUsage::SignVerify,
        description: String::new(),
        tags: vec![
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "1".to_owned()),
            ("empty".to_owned(), String::new()),
        ],
        ..sample_key(&account, &r)
    };
    let material = sample_material(&with_material, MaterialSource::Initial, 1_700_000_000_000);
    with_material.current_material_id = Some(material.material_id);
    let with_material = create_key_ok(store, &with_material, Some(&material)).await;
    assert!(
        with_material.seq > plain.seq,
        "store conformance: a key created later must get a greater seq ({} <= {})",
        with_material.seq,
        plain.seq
    );
    assert_eq!(
        get_key_some(store, &with_material).await,
        with_material,
        "store conformance: get_key must round-trip a multi-Region key with tags and material id"
    );
    assert_eq!(
        ok(
            store
                .get_material(&r, &with_material.key_id, &material.material_id)
                .await,
            "get_material"
        ),
        Some(material.clone()),
        "store conformance: create_key must store its initial material"
    );
    assert_eq!(
        ok(
            store
                .get_key_with_current_material(&r, &with_material.key_id)
                .await,
            "get_key_with_current_material"
        ),
        Some((with_material.clone(), Some(material.clone()))),
        "store conformance: get_key_with_current_material must return the key and its current material"
    );
    assert_eq!(
        ok(
            store.get_key_with_current_material(&r, &plain.key_id).await,
            "get_key_with_current_material"
        ),
        Some((plain.clone(), None)),
        "store conformance: a key without current material comes back without material"
    );
    assert_eq!(
        ok(
            store
                .get_key_with_current_material(&r, &KeyId::new_random())
                .await,
            "get_key_with_current_material"
        ),
        None,
        "store conformance: get_key_with_current_material of a missing key is None"
    );
    assert_eq!(
        ok(
            store.list_materials(&r, &with_material.key_id).await,
            "list_materials"
        ),
        vec![material.clone()],
        "store conformance: the initial material must be the key's only material"
    );

    let dup = KeyRecord {
        description: "duplicate".to_owned(),
        ..with_material.clone()
    };
    let dup_material = sample_material(&dup, MaterialSource::Initial, 1_700_000_000_001);
    expect_already_exists(
        store.create_key(&dup, Some(&dup_material)).await,
        "create_key with a taken (region, key id)",
    );
    assert_eq!(
        get_key_some(store, &with_material).await,
        with_material,
        "store conformance: a rejected duplicate key must not change the stored one"
    );
    assert_eq!(
        ok(
            store.list_materials(&r, &with_material.key_id).await,
            "list_materials"
        ),
        vec![material],
        "store conformance: a rejected duplicate key must not store its material"
    );

    assert_eq!(
        ok(
            store.get_key(&r, &KeyId::new_random()).await,
            "get_key (missing)"
        ),
        None,
        "store conformance: get_key of an unknown id must be None"
    );
}

/// The same key id may exist in two regions; each region returns its own record.
pub async fn same_key_id_is_allowed_in_another_region(store: &dyn Store) {
    let account = random_account_id();
    let east = region("us-east-1");
    let west = region("eu-west-1");
    let a = create_key_ok(store, &sample_key(&account, &east), None).await;
    let b = KeyRecord {
        region: west.clone(),
        description: "the western twin".to_owned(),
        ..a.clone()
    };
    let b = create_key_ok(store, &b, None).await;
    assert_ne!(
        a.seq, b.seq,
        "store conformance: keys in two regions must get distinct seqs"
    );
    assert_eq!(
        get_key_some(store, &a).await,
        a,
        "store conformance: get_key must return the key of the asked region"
    );
    assert_eq!(
        get_key_some(store, &b).await,
        b,
        "store conformance: get_key must return the key of the asked region"
    );
}

/// `create_key` stores the key and its material together or not at all: a material that
/// names a different, missing key makes the whole call fail and leaves no key behind.
pub async fn create_key_is_atomic(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = sample_key(&account, &r);
    let stray = sample_material(&sample_key(&account, &r), MaterialSource::Initial, 1);
    let result = store.create_key(&key, Some(&stray)).await;
    assert!(
        result.is_err(),
        "store conformance: create_key with a material of another, missing key must fail"
    );
    assert_eq!(
        ok(store.get_key(&r, &key.key_id).await, "get_key"),
        None,
        "store conformance: a failed create_key must not leave the key behind"
    );
}

/// `update_key` replaces every mutable field (tag order, deletion date, state, policy,
/// current material, description, …), keeps the stored seq, and can clear optional fields.
pub async fn update_key_round_trips_every_field(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let original = KeyRecord {
        tags: vec![
            ("b".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
        ],
        ..sample_key(&account, &r)
    };
    let original = create_key_ok(store, &original, None).await;

    let changed = KeyRecord {
        seq: -1, // ignored on input
        description: "changed description".to_owned(),
        key_state: KeyState::PendingDeletion,
        deletion_date_ms: Some(1_800_000_000_000),
        policy: "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"x\"}]}".to_owned(),
        tags: vec![
            ("z".to_owned(), "1".to_owned()),
            ("a".to_owned(), "new".to_owned()),
            ("m".to_owned(), "3".to_owned()),
        ],
        current_material_id: Some(random_material_id()),
        rotation: RotationRecord {
            enabled: true,
            period_days: Some(90),
            next_rotation_ms: Some(1_900_000_000_000),
            on_demand_count: 3,
        },
        ..original.clone()
    };
    ok(store.update_key(&changed).await, "update_key");
    let expected = KeyRecord {
        seq: original.seq,
        version: original.version + 1,
        ..changed.clone()
    };
    assert_eq!(
        get_key_some(store, &original).await,
        expected,
        "store conformance: update_key must round-trip every field and keep the seq"
    );

    let cleared = KeyRecord {
        description: String::new(),
        key_state: KeyState::Disabled,
        deletion_date_ms: None,
        tags: Vec::new(),
        current_material_id: None,
        rotation: RotationRecord::default(),
        ..expected.clone()
    };
    ok(store.update_key(&cleared).await, "update_key (clearing)");
    let cleared = KeyRecord {
        version: expected.version + 1,
        ..cleared
    };
    assert_eq!(
        get_key_some(store, &original).await,
        cleared,
        "store conformance: update_key must clear the deletion date, tags and current material"
    );

    let retagged = KeyRecord {
        tags: vec![
            ("k2".to_owned(), "v2".to_owned()),
            ("k1".to_owned(), "v1".to_owned()),
        ],
        key_state: KeyState::Enabled,
        ..cleared
    };
    ok(store.update_key(&retagged).await, "update_key (retagging)");
    let retagged = KeyRecord {
        version: retagged.version + 1,
        ..retagged
    };
    assert_eq!(
        get_key_some(store, &original).await,
        retagged,
        "store conformance: update_key must store tags in the given order"
    );
}

/// `update_key` of a key that does not exist (or exists only in another region) is `NotFound`.
pub async fn update_missing_key_is_not_found(store: &dyn Store) {
    let account = random_account_id();
    let east = region("us-east-1");
    let missing = sample_key(&account, &east);
    expect_not_found(
        store.update_key(&missing).await,
        "update_key of a missing key",
    );
    assert_eq!(
        ok(store.get_key(&east, &missing.key_id).await, "get_key"),
        None,
        "store conformance: update_key must not create a key"
    );

    let existing = create_key_ok(store, &sample_key(&account, &east), None).await;
    let other_region = KeyRecord {
        region: region("ap-south-1"),
        ..existing.clone()
    };
    expect_not_found(
        store.update_key(&other_region).await,
        "update_key of a key id that exists only in another region",
    );
    assert_eq!(
        get_key_some(store, &existing).await,
        existing,
        "store conformance: update_key in another region must not touch this one"
    );
}

/// `list_keys` returns only the asked account's keys in the asked region, in seq order.
pub async fn list_keys_filters_by_account_and_region_in_seq_order(store: &dyn Store) {
    let a = random_account_id();
    let b = random_account_id();
    let east = region("us-east-1");
    let west = region("us-west-2");

    let mut a_east = Vec::new();
    let mut a_west = Vec::new();
    let mut b_east = Vec::new();
    for i in 0..4 {
        let tags = vec![("index".to_owned(), i.to_string())];
        a_east.push(
            create_key_ok(
                store,
                &KeyRecord {
                    tags: tags.clone(),
                    ..sample_key(&a, &east)
                },
                None,
            )
            .await,
        );
        if i % 2 == 0 {
            a_west.push(create_key_ok(store, &sample_key(&a, &west), None).await);
            b_east.push(create_key_ok(store, &sample_key(&b, &east), None).await);
        }
    }

    let listed = ok(store.list_keys(&a, &east, 0, 100).await, "list_keys");
    assert_eq!(
        listed, a_east,
        "store conformance: list_keys must return exactly the account's keys in the region, \
         in creation order, with tags"
    );
    assert!(
        listed.windows(2).all(|w| w[0].seq < w[1].seq),
        "store conformance: list_keys must be ordered by ascending seq"
    );
    assert_eq!(
        ids(&ok(store.list_keys(&a, &west, 0, 100).await, "list_keys")),
        ids(&a_west),
        "store conformance: list_keys must filter by region"
    );
    assert_eq!(
        ids(&ok(store.list_keys(&b, &east, 0, 100).await, "list_keys")),
        ids(&b_east),
        "store conformance: list_keys must filter by account"
    );
    assert!(
        ok(store.list_keys(&b, &west, 0, 100).await, "list_keys").is_empty(),
        "store conformance: list_keys of an account without keys in the region must be empty"
    );
    assert!(
        ok(
            store.list_keys(&random_account_id(), &east, 0, 100).await,
            "list_keys"
        )
        .is_empty(),
        "store conformance: list_keys of an unknown account must be empty"
    );
}

/// `list_keys` honours `after_seq` and `limit`: pages concatenate to the full list.
pub async fn list_keys_pages_with_after_seq_and_limit(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(create_key_ok(store, &sample_key(&account, &r), None).await);
    }

    assert!(
        ok(store.list_keys(&account, &r, 0, 0).await, "list_keys").is_empty(),
        "store conformance: list_keys with limit 0 must be empty"
    );
    let page1 = ok(
        store.list_keys(&account, &r, 0, 2).await,
        "list_keys page 1",
    );
    assert_eq!(
        ids(&page1),
        ids(&created[..2]),
        "store conformance: list_keys must return at most `limit` keys, the oldest first"
    );
    let page2 = ok(
        store.list_keys(&account, &r, page1[1].seq, 2).await,
        "list_keys page 2",
    );
    assert_eq!(
        ids(&page2),
        ids(&created[2..4]),
        "store conformance: list_keys must resume strictly after `after_seq`"
    );
    let page3 = ok(
        store.list_keys(&account, &r, page2[1].seq, 2).await,
        "list_keys page 3",
    );
    assert_eq!(
        ids(&page3),
        ids(&created[4..]),
        "store conformance: the last page must hold the remaining keys"
    );
    assert!(
        ok(
            store.list_keys(&account, &r, page3[0].seq, 2).await,
            "list_keys page 4"
        )
        .is_empty(),
        "store conformance: list_keys after the last key must be empty"
    );
    assert_eq!(
        ids(&ok(
            store
                .list_keys(&account, &r, created[0].seq, usize::MAX)
                .await,
            "list_keys"
        )),
        ids(&created[1..]),
        "store conformance: list_keys must accept a huge limit"
    );
}

/// A key created after a page was read appears on a later page: markers (the last seq read)
/// stay valid while keys are added.
pub async fn list_keys_markers_stay_valid_while_keys_are_added(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(create_key_ok(store, &sample_key(&account, &r), None).await);
    }
    let first = ok(
        store.list_keys(&account, &r, 0, 2).await,
        "list_keys page 1",
    );
    assert_eq!(
        ids(&first),
        ids(&created[..2]),
        "store conformance: first page"
    );

    let late = create_key_ok(store, &sample_key(&account, &r), None).await;
    assert!(
        created.iter().all(|k| k.seq < late.seq),
        "store conformance: a new key must sort after every existing key"
    );
    created.push(late);

    let mut seen = first.clone();
    let mut marker = first[first.len() - 1].seq;
    loop {
        let page = ok(
            store.list_keys(&account, &r, marker, 2).await,
            "list_keys next page",
        );
        let Some(last) = page.last() else { break };
        marker = last.seq;
        seen.extend(page);
    }
    assert_eq!(
        ids(&seen),
        ids(&created),
        "store conformance: paging must yield every key once, the late one last"
    );
}

/// Materials: add, get, list oldest first, duplicate → `AlreadyExists`, unknown material →
/// `None`, material for a missing key → `NotFound`.
pub async fn materials_add_get_list_oldest_first_and_reject_duplicates(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = sample_key(&account, &r);
    let m1 = sample_material(&key, MaterialSource::Initial, 1_700_000_000_000);
    let key = create_key_ok(
        store,
        &KeyRecord {
            current_material_id: Some(m1.material_id),
            ..key
        },
        Some(&m1),
    )
    .await;
    let m2 = sample_material(&key, MaterialSource::AutomaticRotation, 1_700_000_100_000);
    let m3 = sample_material(&key, MaterialSource::OnDemandRotation, 1_700_000_200_000);
    let m4 = MaterialRecord {
        wrapped: Vec::new(),
        ..sample_material(&key, MaterialSource::Imported, 1_700_000_300_000)
    };
    for m in [&m2, &m3, &m4] {
        ok(store.add_material(m).await, "add_material");
    }
    for m in [&m1, &m2, &m3, &m4] {
        assert_eq!(
            ok(
                store.get_material(&r, &key.key_id, &m.material_id).await,
                "get_material"
            ),
            Some(m.clone()),
            "store conformance: get_material must round-trip every field"
        );
    }
    assert_eq!(
        ok(
            store.list_materials(&r, &key.key_id).await,
            "list_materials"
        ),
        vec![m1.clone(), m2.clone(), m3.clone(), m4.clone()],
        "store conformance: list_materials must list every version, oldest first"
    );

    let dup = MaterialRecord {
        wrapped: vec![1, 2, 3],
        ..m2.clone()
    };
    expect_already_exists(
        store.add_material(&dup).await,
        "add_material with a taken id",
    );
    assert_eq!(
        ok(
            store.get_material(&r, &key.key_id, &m2.material_id).await,
            "get_material"
        ),
        Some(m2),
        "store conformance: a rejected duplicate material must not change the stored one"
    );
    assert_eq!(
        ok(
            store.list_materials(&r, &key.key_id).await,
            "list_materials"
        )
        .len(),
        4,
        "store conformance: a rejected duplicate material must not be listed"
    );

    assert_eq!(
        ok(
            store
                .get_material(&r, &key.key_id, &random_material_id())
                .await,
            "get_material (missing)"
        ),
        None,
        "store conformance: get_material of an unknown id must be None"
    );
    assert_eq!(
        ok(
            store
                .get_material(&region("eu-west-1"), &key.key_id, &m1.material_id)
                .await,
            "get_material (other region)"
        ),
        None,
        "store conformance: materials are scoped to their key's region"
    );

    let ghost = sample_key(&account, &r);
    let orphan = sample_material(&ghost, MaterialSource::Imported, 1);
    expect_not_found(
        store.add_material(&orphan).await,
        "add_material for a key that does not exist",
    );
    assert!(
        ok(
            store.list_materials(&r, &ghost.key_id).await,
            "list_materials"
        )
        .is_empty(),
        "store conformance: list_materials of an unknown key must be empty"
    );
}

/// Settings: unknown → `None`, put then get, put again overwrites.
pub async fn settings_get_put_and_overwrite(store: &dyn Store) {
    let name = format!("conformance.{}", random_hex(16));
    assert_eq!(
        ok(store.get_setting(&name).await, "get_setting (missing)"),
        None,
        "store conformance: an unknown setting must be None"
    );
    ok(store.put_setting(&name, "first").await, "put_setting");
    assert_eq!(
        ok(store.get_setting(&name).await, "get_setting"),
        Some("first".to_owned()),
        "store conformance: get_setting must return the value put"
    );
    ok(
        store.put_setting(&name, "").await,
        "put_setting (overwrite)",
    );
    assert_eq!(
        ok(store.get_setting(&name).await, "get_setting"),
        Some(String::new()),
        "store conformance: put_setting must overwrite (even with an empty value)"
    );
    ok(
        store.put_setting(&name, "third").await,
        "put_setting (overwrite)",
    );
    assert_eq!(
        ok(store.get_setting(&name).await, "get_setting"),
        Some("third".to_owned()),
        "store conformance: put_setting must overwrite"
    );
}

// ---- lifecycle, aliases, usage, leases ----

/// A read-modify-write cycle based on an outdated read fails with `Conflict` and changes
/// nothing, so two nodes cannot silently overwrite each other's change to a key.
pub async fn update_key_with_a_stale_version_is_a_conflict(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let first = KeyRecord {
        description: "first writer".to_owned(),
        ..key.clone()
    };
    ok(store.update_key(&first).await, "update_key (first writer)");
    let second = KeyRecord {
        description: "second writer".to_owned(),
        ..key.clone()
    };
    match store.update_key(&second).await {
        Err(StoreError::Conflict) => {}
        other => panic!("store conformance: a stale update_key must be Conflict, got {other:?}"),
    }
    let stored = get_key_some(store, &key).await;
    assert_eq!(
        stored.description, "first writer",
        "store conformance: a conflicting update must not change the key"
    );
    assert_eq!(stored.version, key.version + 1);
}

/// `rotate_key` stores the new material and the key change together.
pub async fn rotate_key_adds_material_and_updates_key_atomically(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = sample_key(&account, &r);
    let initial = sample_material(&key, MaterialSource::Initial, 1);
    let key = create_key_ok(
        store,
        &KeyRecord {
            current_material_id: Some(initial.material_id),
            ..key
        },
        Some(&initial),
    )
    .await;
    let next = sample_material(&key, MaterialSource::OnDemandRotation, 2);
    let rotated = KeyRecord {
        current_material_id: Some(next.material_id),
        rotation: RotationRecord {
            on_demand_count: 1,
            ..key.rotation.clone()
        },
        ..key.clone()
    };
    ok(store.rotate_key(&rotated, &next).await, "rotate_key");
    let stored = get_key_some(store, &key).await;
    assert_eq!(stored.current_material_id, Some(next.material_id));
    assert_eq!(stored.rotation.on_demand_count, 1);
    let materials = ok(
        store.list_materials(&r, &key.key_id).await,
        "list_materials",
    );
    assert_eq!(
        materials.iter().map(|m| m.material_id).collect::<Vec<_>>(),
        vec![initial.material_id, next.material_id],
        "store conformance: rotate_key must append the material"
    );
    // A stale rotation changes nothing, not even the materials.
    let stale_material = sample_material(&key, MaterialSource::AutomaticRotation, 3);
    match store.rotate_key(&rotated, &stale_material).await {
        Err(StoreError::Conflict) => {}
        other => panic!("store conformance: a stale rotate_key must be Conflict, got {other:?}"),
    }
    let materials = ok(
        store.list_materials(&r, &key.key_id).await,
        "list_materials",
    );
    assert_eq!(
        materials.len(),
        2,
        "store conformance: a failed rotate_key must add nothing"
    );
}

/// Deleting a key destroys its material, tags, aliases and usage record.
pub async fn delete_key_removes_material_tags_aliases_and_usage(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = KeyRecord {
        tags: vec![("t".to_owned(), "v".to_owned())],
        ..sample_key(&account, &r)
    };
    let material = sample_material(&key, MaterialSource::Initial, 1);
    let key = create_key_ok(store, &key, Some(&material)).await;
    let alias = AliasRecord {
        account: account.clone(),
        region: r.clone(),
        alias_name: "alias/doomed".to_owned(),
        target_key_id: key.key_id,
        created_at_ms: 1,
        last_updated_ms: 1,
    };
    ok(store.create_alias(&alias).await, "create_alias");
    ok(
        store
            .put_key_usage(&[KeyUsageRecord {
                region: r.clone(),
                key_id: key.key_id,
                operation: "Encrypt".to_owned(),
                timestamp_ms: 5,
                request_id: "req".to_owned(),
            }])
            .await,
        "put_key_usage",
    );
    ok(store.delete_key(&r, &key.key_id).await, "delete_key");
    assert!(ok(store.get_key(&r, &key.key_id).await, "get_key").is_none());
    assert!(ok(
        store.list_materials(&r, &key.key_id).await,
        "list_materials"
    )
    .is_empty());
    assert!(ok(
        store.get_alias(&account, &r, "alias/doomed").await,
        "get_alias"
    )
    .is_none());
    assert!(ok(store.get_key_usage(&r, &key.key_id).await, "get_key_usage").is_none());
    expect_not_found(store.delete_key(&r, &key.key_id).await, "delete_key twice");
}

/// `list_keys_due` returns keys whose deletion date has passed and Enabled keys whose
/// automatic rotation is due — and nothing else.
pub async fn list_keys_due_finds_due_deletions_and_rotations_only(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let now = 4_000_000_000_000_i64;
    let mk = |state, deletion, rotation_due: Option<i64>| KeyRecord {
        key_state: state,
        deletion_date_ms: deletion,
        rotation: RotationRecord {
            enabled: rotation_due.is_some(),
            period_days: rotation_due.map(|_| 365),
            next_rotation_ms: rotation_due,
            on_demand_count: 0,
        },
        ..sample_key(&account, &r)
    };
    let due_deletion = create_key_ok(
        store,
        &mk(KeyState::PendingDeletion, Some(now - 1), None),
        None,
    )
    .await;
    let later_deletion = create_key_ok(
        store,
        &mk(KeyState::PendingDeletion, Some(now + 1), None),
        None,
    )
    .await;
    let due_rotation = create_key_ok(store, &mk(KeyState::Enabled, None, Some(now)), None).await;
    let later_rotation =
        create_key_ok(store, &mk(KeyState::Enabled, None, Some(now + 1)), None).await;
    let disabled_rotation =
        create_key_ok(store, &mk(KeyState::Disabled, None, Some(now - 1)), None).await;
    let due = ok(store.list_keys_due(now, 100_000).await, "list_keys_due");
    let ids: Vec<KeyId> = due.iter().map(|k| k.key_id).collect();
    assert!(
        ids.contains(&due_deletion.key_id),
        "store conformance: due deletion missing"
    );
    assert!(
        ids.contains(&due_rotation.key_id),
        "store conformance: due rotation missing"
    );
    for not_due in [&later_deletion, &later_rotation, &disabled_rotation] {
        assert!(
            !ids.contains(&not_due.key_id),
            "store conformance: list_keys_due returned a key with nothing due"
        );
    }
}

/// Aliases: unique per account and region, updatable, deletable, listed in name order with
/// a resumable position and an optional target filter.
pub async fn aliases_create_get_update_delete_and_list_in_name_order(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let k1 = create_key_ok(store, &sample_key(&account, &r), None).await;
    let k2 = create_key_ok(store, &sample_key(&account, &r), None).await;
    let alias = |name: &str, target: &KeyRecord| AliasRecord {
        account: account.clone(),
        region: r.clone(),
        alias_name: name.to_owned(),
        target_key_id: target.key_id,
        created_at_ms: 10,
        last_updated_ms: 10,
    };
    for (name, target) in [("alias/c", &k1), ("alias/a", &k1), ("alias/b", &k2)] {
        ok(
            store.create_alias(&alias(name, target)).await,
            "create_alias",
        );
    }
    expect_already_exists(
        store.create_alias(&alias("alias/a", &k2)).await,
        "duplicate alias",
    );
    let other_region = region("eu-west-1");
    ok(
        store
            .create_alias(&AliasRecord {
                region: other_region.clone(),
                ..alias("alias/a", &k2)
            })
            .await,
        "same alias name in another region",
    );
    assert_eq!(
        ok(store.get_alias(&account, &r, "alias/a").await, "get_alias"),
        Some(alias("alias/a", &k1))
    );
    let names = |list: Vec<AliasRecord>| list.into_iter().map(|a| a.alias_name).collect::<Vec<_>>();
    let all = ok(
        store.list_aliases(&account, &r, None, None, 100).await,
        "list_aliases",
    );
    assert_eq!(names(all), vec!["alias/a", "alias/b", "alias/c"]);
    let page = ok(
        store
            .list_aliases(&account, &r, None, Some("alias/a"), 1)
            .await,
        "list_aliases page",
    );
    assert_eq!(names(page), vec!["alias/b"]);
    let for_k1 = ok(
        store
            .list_aliases(&account, &r, Some(&k1.key_id), None, 100)
            .await,
        "list_aliases by key",
    );
    assert_eq!(names(for_k1), vec!["alias/a", "alias/c"]);

    let moved = AliasRecord {
        target_key_id: k2.key_id,
        last_updated_ms: 20,
        ..alias("alias/a", &k1)
    };
    ok(store.update_alias(&moved).await, "update_alias");
    assert_eq!(
        ok(store.get_alias(&account, &r, "alias/a").await, "get_alias"),
        Some(moved)
    );
    expect_not_found(
        store.update_alias(&alias("alias/none", &k1)).await,
        "update missing alias",
    );
    ok(
        store.delete_alias(&account, &r, "alias/a").await,
        "delete_alias",
    );
    assert!(ok(store.get_alias(&account, &r, "alias/a").await, "get_alias").is_none());
    expect_not_found(
        store.delete_alias(&account, &r, "alias/a").await,
        "delete missing alias",
    );
}

/// The last-usage record of a key is replaced by each newer use.
pub async fn key_usage_is_replaced_per_key(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    assert!(ok(store.get_key_usage(&r, &key.key_id).await, "get_key_usage").is_none());
    let usage = |operation: &str, ts| KeyUsageRecord {
        region: r.clone(),
        key_id: key.key_id,
        operation: operation.to_owned(),
        timestamp_ms: ts,
        request_id: format!("req-{ts}"),
    };
    ok(
        store.put_key_usage(&[usage("Encrypt", 1)]).await,
        "put_key_usage",
    );
    ok(
        store.put_key_usage(&[usage("Decrypt", 2)]).await,
        "put_key_usage",
    );
    assert_eq!(
        ok(store.get_key_usage(&r, &key.key_id).await, "get_key_usage"),
        Some(usage("Decrypt", 2))
    );
    // Usage of a key that no longer exists is ignored, not an error.
    let gone = KeyUsageRecord {
        key_id: KeyId::new_random(),
        ..usage("Encrypt", 3)
    };
    ok(
        store.put_key_usage(&[gone]).await,
        "put_key_usage for a missing key",
    );
}

/// A lease belongs to one holder until it expires; its holder can renew it.
pub async fn leases_are_exclusive_until_they_expire(store: &dyn Store) {
    let name = format!("conformance-lease-{}", KeyId::new_random());
    assert!(ok(
        store.try_acquire_lease(&name, "node-a", 1_000, 100).await,
        "acquire"
    ));
    assert!(!ok(
        store.try_acquire_lease(&name, "node-b", 1_050, 100).await,
        "contend"
    ));
    assert!(ok(
        store.try_acquire_lease(&name, "node-a", 1_050, 100).await,
        "renew"
    ));
    assert!(!ok(
        store.try_acquire_lease(&name, "node-b", 1_149, 100).await,
        "before expiry"
    ));
    assert!(ok(
        store.try_acquire_lease(&name, "node-b", 1_150, 100).await,
        "after expiry"
    ));
    assert!(!ok(
        store.try_acquire_lease(&name, "node-a", 1_200, 100).await,
        "old holder"
    ));
}

/// Inline user policies: put replaces by name; list is per user, in name order.
pub async fn user_policies_are_replaced_by_name_and_listed_in_name_order(store: &dyn Store) {
    let account = random_account_id();
    ok(
        store
            .put_user_policy(&account, "alice", "b", "{\"v\":1}")
            .await,
        "put_user_policy",
    );
    ok(
        store
            .put_user_policy(&account, "alice", "a", "{\"v\":2}")
            .await,
        "put_user_policy",
    );
    ok(
        store
            .put_user_policy(&account, "alice", "b", "{\"v\":3}")
            .await,
        "put_user_policy (replace)",
    );
    ok(
        store
            .put_user_policy(&account, "bob", "a", "{\"v\":4}")
            .await,
        "put_user_policy (other user)",
    );
    assert_eq!(
        ok(
            store.list_user_policies(&account, "alice").await,
            "list_user_policies"
        ),
        vec![
            ("a".to_owned(), "{\"v\":2}".to_owned()),
            ("b".to_owned(), "{\"v\":3}".to_owned())
        ],
        "store conformance: user policies are per user, replaced by name, in name order"
    );
}

fn sample_user(account: &AccountId, name: &str) -> UserRecord {
    UserRecord {
        account: account.clone(),
        user_name: name.to_owned(),
        user_id: format!("AIDA{}", random_hex(16).to_uppercase()),
        arn: format!("arn:aws:iam::{account}:user/{name}"),
        path: "/".to_owned(),
        is_admin: false,
        created_at_ms: 1_700_000_000_000,
    }
}

/// Users: listed per account in name order, paged by `after_name` and `limit`; deleting a
/// user removes it and its tags; deleting a missing user is `NotFound`.
pub async fn users_list_in_name_order_and_delete_with_their_tags(store: &dyn Store) {
    let account = random_account_id();
    let other = random_account_id();
    for name in ["carol", "alice", "bob"] {
        ok(
            store.create_user(&sample_user(&account, name)).await,
            "create_user",
        );
    }
    ok(
        store.create_user(&sample_user(&other, "dave")).await,
        "create_user",
    );
    let names = |users: Vec<UserRecord>| -> Vec<String> {
        users.into_iter().map(|u| u.user_name).collect()
    };
    assert_eq!(
        names(ok(store.list_users(&account, None, 10).await, "list_users")),
        vec!["alice", "bob", "carol"],
        "store conformance: list_users must list the account's users in name order"
    );
    assert_eq!(
        names(ok(
            store.list_users(&account, Some("alice"), 1).await,
            "list_users"
        )),
        vec!["bob"],
        "store conformance: list_users must page by after_name and limit"
    );
    ok(
        store
            .tag_user(&account, "bob", &[("team".to_owned(), "blue".to_owned())])
            .await,
        "tag_user",
    );
    ok(store.delete_user(&account, "bob").await, "delete_user");
    assert_eq!(
        ok(store.get_user(&account, "bob").await, "get_user"),
        None,
        "store conformance: a deleted user must be gone"
    );
    assert!(
        ok(
            store.list_user_tags(&account, "bob").await,
            "list_user_tags"
        )
        .is_empty(),
        "store conformance: deleting a user must delete its tags"
    );
    expect_not_found(
        store.delete_user(&account, "bob").await,
        "delete_user of a missing user",
    );
    expect_not_found(
        store.delete_user(&account, "dave").await,
        "delete_user of another account's user",
    );
}

/// Inline policies: delete one by name; a missing one is `NotFound`.
pub async fn user_policies_delete_and_missing_is_not_found(store: &dyn Store) {
    let account = random_account_id();
    let doc = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
    ok(
        store.put_user_policy(&account, "alice", "a", doc).await,
        "put_user_policy",
    );
    ok(
        store.put_user_policy(&account, "alice", "b", doc).await,
        "put_user_policy",
    );
    ok(
        store.delete_user_policy(&account, "alice", "a").await,
        "delete_user_policy",
    );
    assert_eq!(
        ok(
            store.list_user_policies(&account, "alice").await,
            "list_user_policies"
        ),
        vec![("b".to_owned(), doc.to_owned())],
        "store conformance: delete_user_policy must delete exactly the named policy"
    );
    expect_not_found(
        store.delete_user_policy(&account, "alice", "a").await,
        "delete_user_policy of a missing policy",
    );
}

/// User tags: added, replaced by key, removed by key, listed in key order, per account.
pub async fn user_tags_add_replace_remove_and_stay_in_their_account(store: &dyn Store) {
    let account = random_account_id();
    let other = random_account_id();
    let tag = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    ok(
        store
            .tag_user(&account, "alice", &[tag("b", "1"), tag("a", "2")])
            .await,
        "tag_user",
    );
    ok(
        store.tag_user(&account, "alice", &[tag("b", "3")]).await,
        "tag_user",
    );
    ok(
        store.tag_user(&other, "alice", &[tag("z", "9")]).await,
        "tag_user",
    );
    assert_eq!(
        ok(
            store.list_user_tags(&account, "alice").await,
            "list_user_tags"
        ),
        vec![tag("a", "2"), tag("b", "3")],
        "store conformance: tag_user must replace by key and list in key order"
    );
    ok(
        store
            .untag_user(&account, "alice", &["a".to_owned(), "missing".to_owned()])
            .await,
        "untag_user",
    );
    assert_eq!(
        ok(
            store.list_user_tags(&account, "alice").await,
            "list_user_tags"
        ),
        vec![tag("b", "3")],
        "store conformance: untag_user must remove the named keys only"
    );
    assert_eq!(
        ok(
            store.list_user_tags(&other, "alice").await,
            "list_user_tags"
        ),
        vec![tag("z", "9")],
        "store conformance: user tags are scoped to their account"
    );
}

/// Access keys: listed per user oldest first; deleted by id; a missing one is `NotFound`.
pub async fn access_keys_list_per_user_and_delete(store: &dyn Store) {
    let account = random_account_id();
    let key = |user: &str, at: i64| AccessKeyRecord {
        access_key_id: format!("AKIA{}", random_hex(16).to_uppercase()),
        account: account.clone(),
        user_name: user.to_owned(),
        wrapped_secret: vec![1, 2, 3],
        status: AccessKeyStatus::Active,
        created_at_ms: at,
    };
    let first = key("alice", 1_700_000_000_000);
    let second = key("alice", 1_700_000_000_500);
    let bobs = key("bob", 1_700_000_000_100);
    for k in [&second, &first, &bobs] {
        ok(store.create_access_key(k).await, "create_access_key");
    }
    assert_eq!(
        ok(
            store.list_access_keys(&account, "alice").await,
            "list_access_keys"
        ),
        vec![first.clone(), second.clone()],
        "store conformance: list_access_keys must list the user's keys oldest first"
    );
    ok(
        store.delete_access_key(&first.access_key_id).await,
        "delete_access_key",
    );
    assert_eq!(
        ok(
            store.get_access_key(&first.access_key_id).await,
            "get_access_key"
        ),
        None,
        "store conformance: a deleted access key must be gone"
    );
    expect_not_found(
        store.delete_access_key(&first.access_key_id).await,
        "delete_access_key of a missing key",
    );
    assert_eq!(
        ok(
            store.list_access_keys(&account, "alice").await,
            "list_access_keys"
        ),
        vec![second],
        "store conformance: delete_access_key must delete only that key"
    );
}

// ---- grants ----

fn sample_grant(key: &KeyRecord, grantee: &str) -> GrantRecord {
    GrantRecord {
        seq: 0,
        grant_id: random_hex(64),
        region: key.region.clone(),
        key_id: key.key_id,
        key_account: key.account.clone(),
        name: None,
        grantee_principal: grantee.to_owned(),
        retiring_principal: None,
        issuing_account: key.account.clone(),
        operations: vec!["Encrypt".to_owned(), "Decrypt".to_owned()],
        constraints: None,
        created_at_ms: 1_700_000_000_000,
    }
}

fn random_token_id() -> String {
    random_hex(64)
}

fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn create_grant_ok(store: &dyn Store, grant: &GrantRecord, token_id: &str) -> GrantRecord {
    match ok(
        store.create_grant(grant, token_id, 50_000).await,
        "create_grant",
    ) {
        GrantCreation::Created(created) => created,
        GrantCreation::Existing(existing) => panic!(
            "store conformance: create_grant of a new grant returned an existing one ({})",
            existing.grant_id
        ),
    }
}

fn grant_ids(grants: &[GrantRecord]) -> Vec<String> {
    grants.iter().map(|g| g.grant_id.clone()).collect()
}

/// Grants: create (the store assigns an increasing seq), get back every field — name,
/// retiring principal, both constraint maps, operations in order — find by token, unknown
/// grant or token → `None`, delete removes the grant and its tokens, deleting again →
/// `NotFound`.
pub async fn grants_create_get_find_by_token_and_delete(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let issuer = random_account_id();
    let full = GrantRecord {
        name: Some("backup-job:1".to_owned()),
        retiring_principal: Some(format!("arn:aws:iam::{account}:role/retirer")),
        issuing_account: issuer,
        operations: vec![
            "ReEncryptTo".to_owned(),
            "Decrypt".to_owned(),
            "CreateGrant".to_owned(),
        ],
        constraints: Some(GrantConstraintsRecord {
            encryption_context_subset: Some(ec(&[("Dept", "IT"), ("b", "")])),
            encryption_context_equals: Some(ec(&[("x", "Y"), ("a\"quote", "\u{e9}\n")])),
        }),
        ..sample_grant(&key, &format!("arn:aws:iam::{account}:user/alice"))
    };
    let token = random_token_id();
    let full = create_grant_ok(store, &full, &token).await;
    let minimal = sample_grant(&key, &format!("arn:aws:iam::{account}:root"));
    let minimal_token = random_token_id();
    let minimal = create_grant_ok(store, &minimal, &minimal_token).await;
    assert!(
        minimal.seq > full.seq,
        "store conformance: a grant created later must get a greater seq"
    );
    for grant in [&full, &minimal] {
        assert_eq!(
            ok(
                store.get_grant(&r, &key.key_id, &grant.grant_id).await,
                "get_grant"
            )
            .as_ref(),
            Some(grant),
            "store conformance: get_grant must round-trip every field with the assigned seq"
        );
    }
    assert_eq!(
        ok(
            store.find_grant_by_token(&token).await,
            "find_grant_by_token"
        ),
        Some(full.clone()),
        "store conformance: find_grant_by_token must return the grant of the token"
    );
    assert_eq!(
        ok(
            store.find_grant_by_token(&random_token_id()).await,
            "find_grant_by_token (unknown)"
        ),
        None,
        "store conformance: an unknown token names no grant"
    );
    assert_eq!(
        ok(
            store.get_grant(&r, &key.key_id, &random_hex(64)).await,
            "get_grant (unknown)"
        ),
        None,
        "store conformance: get_grant of an unknown id must be None"
    );
    assert_eq!(
        ok(
            store
                .get_grant(&region("eu-west-1"), &key.key_id, &full.grant_id)
                .await,
            "get_grant (other region)"
        ),
        None,
        "store conformance: grants are scoped to their key's region"
    );
    assert_eq!(
        ok(store.count_grants(&r, &key.key_id).await, "count_grants"),
        2
    );

    ok(
        store.delete_grant(&r, &key.key_id, &full.grant_id).await,
        "delete_grant",
    );
    assert_eq!(
        ok(
            store.get_grant(&r, &key.key_id, &full.grant_id).await,
            "get_grant"
        ),
        None,
        "store conformance: a deleted grant must be gone"
    );
    assert_eq!(
        ok(
            store.find_grant_by_token(&token).await,
            "find_grant_by_token"
        ),
        None,
        "store conformance: the tokens of a deleted grant must name nothing"
    );
    assert_eq!(
        ok(store.count_grants(&r, &key.key_id).await, "count_grants"),
        1
    );
    expect_not_found(
        store.delete_grant(&r, &key.key_id, &full.grant_id).await,
        "delete_grant twice",
    );
    assert_eq!(
        ok(
            store.find_grant_by_token(&minimal_token).await,
            "find_grant_by_token"
        ),
        Some(minimal),
        "store conformance: deleting one grant must leave the others and their tokens"
    );
}

/// A grant for a missing key → `NotFound`; a taken grant id on the same key, or a taken token
/// id → `AlreadyExists`, storing nothing.
pub async fn grants_reject_a_missing_key_and_duplicate_ids(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let ghost = sample_key(&account, &r);
    expect_not_found(
        store
            .create_grant(
                &sample_grant(&ghost, "arn:aws:iam::111122223333:user/a"),
                &random_token_id(),
                10,
            )
            .await,
        "create_grant for a missing key",
    );
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let grantee = format!("arn:aws:iam::{account}:user/a");
    let token = random_token_id();
    let first = create_grant_ok(store, &sample_grant(&key, &grantee), &token).await;
    let same_id = GrantRecord {
        grantee_principal: format!("arn:aws:iam::{account}:user/b"),
        ..first.clone()
    };
    expect_already_exists(
        store.create_grant(&same_id, &random_token_id(), 10).await,
        "create_grant with a taken grant id",
    );
    expect_already_exists(
        store
            .create_grant(&sample_grant(&key, &grantee), &token, 10)
            .await,
        "create_grant with a taken token id",
    );
    assert_eq!(
        ok(store.count_grants(&r, &key.key_id).await, "count_grants"),
        1,
        "store conformance: a rejected create_grant must store nothing"
    );
    assert_eq!(
        ok(
            store.find_grant_by_token(&token).await,
            "find_grant_by_token"
        ),
        Some(first),
        "store conformance: a rejected create_grant must not move a token"
    );
}

/// The same name with identical parameters adds the token to the existing grant; a difference
/// in any parameter (or no name at all) makes a new grant.
pub async fn grant_names_are_idempotent_only_for_identical_parameters(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let other_key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let named = GrantRecord {
        name: Some("nightly".to_owned()),
        retiring_principal: Some(format!("arn:aws:iam::{account}:root")),
        constraints: Some(GrantConstraintsRecord {
            encryption_context_subset: Some(ec(&[("k", "v"), ("a", "b")])),
            encryption_context_equals: None,
        }),
        ..sample_grant(&key, &format!("arn:aws:iam::{account}:user/app"))
    };
    let first_token = random_token_id();
    let first = create_grant_ok(store, &named, &first_token).await;

    let again = GrantRecord {
        grant_id: random_hex(64),
        created_at_ms: named.created_at_ms + 5,
        constraints: Some(GrantConstraintsRecord {
            encryption_context_subset: Some(ec(&[("a", "b"), ("k", "v")])),
            encryption_context_equals: None,
        }),
        ..named.clone()
    };
    let second_token = random_token_id();
    match ok(
        store.create_grant(&again, &second_token, 50_000).await,
        "create_grant (same name)",
    ) {
        GrantCreation::Existing(existing) => assert_eq!(
            existing, first,
            "store conformance: the same name and parameters must return the existing grant"
        ),
        GrantCreation::Created(g) => panic!(
            "store conformance: the same name and parameters must not create grant {}",
            g.grant_id
        ),
    }
    for token in [&first_token, &second_token] {
        assert_eq!(
            ok(
                store.find_grant_by_token(token).await,
                "find_grant_by_token"
            )
            .map(|g| g.grant_id),
            Some(first.grant_id.clone()),
            "store conformance: every token of an idempotent create names the same grant"
        );
    }

    let variations = [
        GrantRecord {
            operations: vec!["Encrypt".to_owned()],
            ..again.clone()
        },
        GrantRecord {
            operations: vec!["Decrypt".to_owned(), "Encrypt".to_owned()],
            ..again.clone()
        },
        GrantRecord {
            grantee_principal: format!("arn:aws:iam::{account}:user/other"),
            ..again.clone()
        },
        GrantRecord {
            retiring_principal: None,
            ..again.clone()
        },
        GrantRecord {
            constraints: None,
            ..again.clone()
        },
        GrantRecord {
            constraints: Some(GrantConstraintsRecord {
                encryption_context_subset: None,
                encryption_context_equals: Some(ec(&[("a", "b"), ("k", "v")])),
            }),
            ..again.clone()
        },
        GrantRecord {
            name: Some("weekly".to_owned()),
            ..again.clone()
        },
        GrantRecord {
            name: None,
            ..again.clone()
        },
        GrantRecord {
            region: other_key.region.clone(),
            key_id: other_key.key_id,
            ..again.clone()
        },
    ];
    for variation in variations {
        let variation = GrantRecord {
            grant_id: random_hex(64),
            ..variation
        };
        let created = create_grant_ok(store, &variation, &random_token_id()).await;
        assert_ne!(created.grant_id, first.grant_id);
    }
    let unnamed = GrantRecord {
        name: None,
        grant_id: random_hex(64),
        ..again.clone()
    };
    create_grant_ok(store, &unnamed, &random_token_id()).await;
    assert_eq!(
        ok(store.count_grants(&r, &key.key_id).await, "count_grants"),
        10,
        "store conformance: one idempotent create and nine distinct grants on the key"
    );
}

/// `create_grant` refuses a new grant once the key has `max_per_key`, but still answers an
/// idempotent re-create; other keys are unaffected; a retired grant frees a place.
pub async fn grants_per_key_are_limited_atomically(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let other = create_key_ok(store, &sample_key(&account, &r), None).await;
    let grantee = format!("arn:aws:iam::{account}:user/app");
    let named = GrantRecord {
        name: Some("n".to_owned()),
        ..sample_grant(&key, &grantee)
    };
    let named = match ok(
        store.create_grant(&named, &random_token_id(), 2).await,
        "create_grant",
    ) {
        GrantCreation::Created(g) => g,
        GrantCreation::Existing(_) => panic!("store conformance: expected a new grant"),
    };
    ok(
        store
            .create_grant(&sample_grant(&key, &grantee), &random_token_id(), 2)
            .await,
        "create_grant (second)",
    );
    match store
        .create_grant(&sample_grant(&key, &grantee), &random_token_id(), 2)
        .await
    {
        Err(StoreError::LimitExceeded) => {}
        other => panic!(
            "store conformance: a grant beyond max_per_key must be LimitExceeded, got {other:?}"
        ),
    }
    let again = GrantRecord {
        grant_id: random_hex(64),
        ..named.clone()
    };
    match ok(
        store.create_grant(&again, &random_token_id(), 2).await,
        "create_grant (idempotent at the limit)",
    ) {
        GrantCreation::Existing(g) => assert_eq!(g.grant_id, named.grant_id),
        GrantCreation::Created(_) => panic!("store conformance: expected the existing grant"),
    }
    ok(
        store
            .create_grant(&sample_grant(&other, &grantee), &random_token_id(), 2)
            .await,
        "create_grant on another key",
    );
    assert_eq!(
        ok(store.count_grants(&r, &key.key_id).await, "count_grants"),
        2
    );
    ok(
        store.delete_grant(&r, &key.key_id, &named.grant_id).await,
        "delete_grant",
    );
    ok(
        store
            .create_grant(&sample_grant(&key, &grantee), &random_token_id(), 2)
            .await,
        "create_grant after a deletion",
    );
}

/// `list_grants`: only the key's grants, in seq order, filtered by grant id and grantee,
/// resumable after a seq even while grants are added and deleted.
pub async fn list_grants_filters_and_pages_in_seq_order(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let other = create_key_ok(store, &sample_key(&account, &r), None).await;
    let alice = format!("arn:aws:iam::{account}:user/alice");
    let bob = format!("arn:aws:iam::{account}:user/bob");
    let mut created = Vec::new();
    for grantee in [&alice, &bob, &alice, &bob, &alice] {
        created
            .push(create_grant_ok(store, &sample_grant(&key, grantee), &random_token_id()).await);
    }
    create_grant_ok(store, &sample_grant(&other, &alice), &random_token_id()).await;
    let none = GrantFilter::default();
    let all = ok(
        store.list_grants(&r, &key.key_id, &none, 0, 100).await,
        "list_grants",
    );
    assert_eq!(
        all, created,
        "store conformance: list_grants must return the key's grants in seq order"
    );
    let page = ok(
        store
            .list_grants(&r, &key.key_id, &none, created[1].seq, 2)
            .await,
        "list_grants page",
    );
    assert_eq!(grant_ids(&page), grant_ids(&created[2..4]));
    let by_grantee = GrantFilter {
        grantee_principal: Some(alice.clone()),
        ..GrantFilter::default()
    };
    let alices = ok(
        store
            .list_grants(&r, &key.key_id, &by_grantee, 0, 100)
            .await,
        "list_grants by grantee",
    );
    assert_eq!(
        grant_ids(&alices),
        vec![
            created[0].grant_id.clone(),
            created[2].grant_id.clone(),
            created[4].grant_id.clone()
        ]
    );
    let after_first = ok(
        store
            .list_grants(&r, &key.key_id, &by_grantee, created[0].seq, 1)
            .await,
        "list_grants by grantee, paged",
    );
    assert_eq!(grant_ids(&after_first), vec![created[2].grant_id.clone()]);
    let by_id = GrantFilter {
        grant_id: Some(created[3].grant_id.clone()),
        ..GrantFilter::default()
    };
    assert_eq!(
        ok(
            store.list_grants(&r, &key.key_id, &by_id, 0, 100).await,
            "list_grants by id"
        ),
        vec![created[3].clone()]
    );
    let both = GrantFilter {
        grant_id: Some(created[3].grant_id.clone()),
        grantee_principal: Some(alice.clone()),
    };
    assert!(ok(
        store.list_grants(&r, &key.key_id, &both, 0, 100).await,
        "list_grants by id and grantee"
    )
    .is_empty());

    // A position stays valid while grants come and go.
    let marker = created[1].seq;
    ok(
        store
            .delete_grant(&r, &key.key_id, &created[2].grant_id)
            .await,
        "delete_grant",
    );
    let newer = create_grant_ok(store, &sample_grant(&key, &bob), &random_token_id()).await;
    let rest = ok(
        store.list_grants(&r, &key.key_id, &none, marker, 100).await,
        "list_grants after changes",
    );
    assert_eq!(
        grant_ids(&rest),
        vec![
            created[3].grant_id.clone(),
            created[4].grant_id.clone(),
            newer.grant_id
        ]
    );
}

/// What authorization consults: the grants of one key for any of a few grantee ARNs.
pub async fn list_grants_for_grantee_and_key_finds_only_those_grantees(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let other = create_key_ok(store, &sample_key(&account, &r), None).await;
    let user = format!("arn:aws:iam::{account}:user/app");
    let root = format!("arn:aws:iam::{account}:root");
    let stranger = format!("arn:aws:iam::{account}:user/stranger");
    let g1 = create_grant_ok(store, &sample_grant(&key, &user), &random_token_id()).await;
    create_grant_ok(store, &sample_grant(&key, &stranger), &random_token_id()).await;
    let g3 = create_grant_ok(store, &sample_grant(&key, &root), &random_token_id()).await;
    create_grant_ok(store, &sample_grant(&other, &user), &random_token_id()).await;
    let found = ok(
        store
            .list_grants_for_grantee_and_key(&r, &key.key_id, &[user.clone(), root.clone()])
            .await,
        "list_grants_for_grantee_and_key",
    );
    assert_eq!(grant_ids(&found), vec![g1.grant_id, g3.grant_id]);
    assert!(ok(
        store
            .list_grants_for_grantee_and_key(&r, &key.key_id, &[])
            .await,
        "list_grants_for_grantee_and_key (no grantee)"
    )
    .is_empty());
    assert!(ok(
        store
            .list_grants_for_grantee_and_key(
                &r,
                &key.key_id,
                &[format!("arn:aws:iam::{account}:user/APP")]
            )
            .await,
        "list_grants_for_grantee_and_key (case)"
    )
    .is_empty());
}

/// `list_retirable_grants`: every grant of a region with that exact retiring principal, on
/// any key of any account, in seq order, resumable.
pub async fn list_retirable_grants_spans_keys_and_accounts_of_a_region(store: &dyn Store) {
    let account = random_account_id();
    let elsewhere = random_account_id();
    let r = region("us-east-1");
    let west = region("eu-west-1");
    let retirer = format!("arn:aws:iam::{account}:role/retirer-{}", random_hex(8));
    let k1 = create_key_ok(store, &sample_key(&account, &r), None).await;
    let k2 = create_key_ok(store, &sample_key(&elsewhere, &r), None).await;
    let k3 = create_key_ok(store, &sample_key(&account, &west), None).await;
    let retirable = |key: &KeyRecord| GrantRecord {
        retiring_principal: Some(retirer.clone()),
        ..sample_grant(key, &format!("arn:aws:iam::{account}:user/app"))
    };
    let a = create_grant_ok(store, &retirable(&k1), &random_token_id()).await;
    create_grant_ok(store, &sample_grant(&k1, &retirer), &random_token_id()).await;
    let b = create_grant_ok(store, &retirable(&k2), &random_token_id()).await;
    create_grant_ok(store, &retirable(&k3), &random_token_id()).await;
    let c = create_grant_ok(store, &retirable(&k1), &random_token_id()).await;
    let all = ok(
        store.list_retirable_grants(&r, &retirer, 0, 100).await,
        "list_retirable_grants",
    );
    assert_eq!(all, vec![a.clone(), b.clone(), c.clone()]);
    let page = ok(
        store.list_retirable_grants(&r, &retirer, a.seq, 1).await,
        "list_retirable_grants page",
    );
    assert_eq!(page, vec![b]);
    assert!(ok(
        store
            .list_retirable_grants(&r, &format!("{retirer}-not"), 0, 100)
            .await,
        "list_retirable_grants (unknown principal)"
    )
    .is_empty());
}

/// Destroying a key destroys its grants and their tokens, in the same transaction.
pub async fn delete_key_removes_its_grants_and_their_tokens(store: &dyn Store) {
    let account = random_account_id();
    let r = region("us-east-1");
    let key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let survivor_key = create_key_ok(store, &sample_key(&account, &r), None).await;
    let retirer = format!("arn:aws:iam::{account}:user/retirer-{}", random_hex(8));
    let grant = GrantRecord {
        retiring_principal: Some(retirer.clone()),
        ..sample_grant(&key, &format!("arn:aws:iam::{account}:user/app"))
    };
    let token = random_token_id();
    let grant = create_grant_ok(store, &grant, &token).await;
    let survivor = GrantRecord {
        retiring_principal: Some(retirer.clone()),
        ..sample_grant(&survivor_key, &format!("arn:aws:iam::{account}:user/app"))
    };
    let survivor = create_grant_ok(store, &survivor, &random_token_id()).await;
    ok(store.delete_key(&r, &key.key_id).await, "delete_key");
    assert_eq!(
        ok(
            store.get_grant(&r, &key.key_id, &grant.grant_id).await,
            "get_grant"
        ),
        None,
        "store conformance: delete_key must delete the key's grants"
    );
    assert_eq!(
        ok(
            store.find_grant_by_token(&token).await,
            "find_grant_by_token"
        ),
        None,
        "store conformance: delete_key must delete the tokens of the key's grants"
    );
    assert_eq!(
        ok(store.count_grants(&r, &key.key_id).await, "count_grants"),
        0
    );
    assert_eq!(
        ok(
            store.list_retirable_grants(&r, &retirer, 0, 100).await,
            "list_retirable_grants"
        ),
        vec![survivor],
        "store conformance: delete_key must leave other keys' grants"
    );
}

fn sample_role(account: &AccountId, name: &str) -> RoleRecord {
    RoleRecord {
        account: account.clone(),
        role_name: name.to_owned(),
        role_id: format!("AROA{}", random_hex(16).to_uppercase()),
        arn: format!("arn:aws:iam::{account}:role/{name}"),
        path: "/".to_owned(),
        assume_role_policy: format!(
            "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"{account}\"}},\"Action\":\"sts:AssumeRole\"}}]}}"
        ),
        description: None,
        max_session_duration: 3600,
        created_at_ms: 1_700_000_000_000,
    }
}

/// Roles: create, get, missing → `None`, duplicate (account, name) or role id →
/// `AlreadyExists`; `update_role` replaces the trust policy, description and maximum session
/// duration and is `NotFound` for a missing role; the same name in another account is another
/// role.
pub async fn roles_create_get_update_and_reject_duplicates(store: &dyn Store) {
    let account = random_account_id();
    let other = random_account_id();
    let role = RoleRecord {
        path: "/app/".to_owned(),
        arn: format!("arn:aws:iam::{account}:role/app/deployer"),
        description: Some("deploys things".to_owned()),
        ..sample_role(&account, "deployer")
    };
    ok(store.create_role(&role).await, "create_role");
    assert_eq!(
        ok(store.get_role(&account, "deployer").await, "get_role"),
        Some(role.clone()),
        "store conformance: get_role must return the created role"
    );
    assert_eq!(
        ok(
            store.get_role(&account, "missing").await,
            "get_role (missing)"
        ),
        None,
        "store conformance: get_role of an unknown name must be None"
    );
    assert_eq!(
        ok(
            store.get_role(&other, "deployer").await,
            "get_role (other account)"
        ),
        None,
        "store conformance: roles are scoped to their account"
    );
    expect_already_exists(
        store
            .create_role(&RoleRecord {
                role_id: format!("AROA{}", random_hex(16).to_uppercase()),
                ..role.clone()
            })
            .await,
        "create_role with a taken name",
    );
    expect_already_exists(
        store
            .create_role(&RoleRecord {
                role_name: "another".to_owned(),
                ..role.clone()
            })
            .await,
        "create_role with a taken role id",
    );
    ok(
        store.create_role(&sample_role(&other, "deployer")).await,
        "create_role with the same name in another account",
    );
    let updated = RoleRecord {
        assume_role_policy: "{\"Version\":\"2012-10-17\",\"Statement\":[]}".to_owned(),
        description: None,
        max_session_duration: 43_200,
        ..role.clone()
    };
    ok(store.update_role(&updated).await, "update_role");
    assert_eq!(
        ok(store.get_role(&account, "deployer").await, "get_role"),
        Some(updated),
        "store conformance: update_role must replace the trust policy, description and maximum session duration"
    );
    expect_not_found(
        store.update_role(&sample_role(&account, "missing")).await,
        "update_role of a missing role",
    );
}

/// Roles: listed per account in name order, paged by `after_name` and `limit`; deleting a role
/// removes it and its tags; deleting a missing role is `NotFound`.
pub async fn roles_list_in_name_order_and_delete_with_their_tags(store: &dyn Store) {
    let account = random_account_id();
    let other = random_account_id();
    for name in ["gamma", "alpha", "beta"] {
        ok(
            store.create_role(&sample_role(&account, name)).await,
            "create_role",
        );
    }
    ok(
        store.create_role(&sample_role(&other, "delta")).await,
        "create_role",
    );
    let names = |roles: Vec<RoleRecord>| -> Vec<String> {
        roles.into_iter().map(|r| r.role_name).collect()
    };
    assert_eq!(
        names(ok(store.list_roles(&account, None, 10).await, "list_roles")),
        vec!["alpha", "beta", "gamma"],
        "store conformance: list_roles must list the account's roles in name order"
    );
    assert_eq!(
        names(ok(
            store.list_roles(&account, Some("alpha"), 1).await,
            "list_roles"
        )),
        vec!["beta"],
        "store conformance: list_roles must page by after_name and limit"
    );
    ok(
        store
            .tag_role(&account, "beta", &[("team".to_owned(), "blue".to_owned())])
            .await,
        "tag_role",
    );
    ok(store.delete_role(&account, "beta").await, "delete_role");
    assert_eq!(
        ok(store.get_role(&account, "beta").await, "get_role"),
        None,
        "store conformance: a deleted role must be gone"
    );
    assert!(
        ok(
            store.list_role_tags(&account, "beta").await,
            "list_role_tags"
        )
        .is_empty(),
        "store conformance: deleting a role must delete its tags"
    );
    expect_not_found(
        store.delete_role(&account, "beta").await,
        "delete_role of a missing role",
    );
    expect_not_found(
        store.delete_role(&account, "delta").await,
        "delete_role of another account's role",
    );
}

/// Role policies: replaced by name, listed in name order, deleted by name (missing →
/// `NotFound`); role tags: replaced by key, removed by key, listed in key order; both per
/// role and account.
pub async fn role_policies_and_tags_are_kept_per_role_and_account(store: &dyn Store) {
    let account = random_account_id();
    let other = random_account_id();
    let doc = |n: u8| format!("{{\"Version\":\"2012-10-17\",\"Statement\":[],\"Id\":\"{n}\"}}");
    ok(
        store.put_role_policy(&account, "r", "b", &doc(1)).await,
        "put_role_policy",
    );
    ok(
        store.put_role_policy(&account, "r", "a", &doc(2)).await,
        "put_role_policy",
    );
    ok(
        store.put_role_policy(&account, "r", "b", &doc(3)).await,
        "put_role_policy",
    );
    ok(
        store.put_role_policy(&other, "r", "z", &doc(4)).await,
        "put_role_policy",
    );
    assert_eq!(
        ok(
            store.list_role_policies(&account, "r").await,
            "list_role_policies"
        ),
        vec![("a".to_owned(), doc(2)), ("b".to_owned(), doc(3))],
        "store conformance: put_role_policy must replace by name and list in name order"
    );
    ok(
        store.delete_role_policy(&account, "r", "a").await,
        "delete_role_policy",
    );
    expect_not_found(
        store.delete_role_policy(&account, "r", "a").await,
        "delete_role_policy of a missing policy",
    );
    assert_eq!(
        ok(
            store.list_role_policies(&account, "r").await,
            "list_role_policies"
        ),
        vec![("b".to_owned(), doc(3))],
        "store conformance: delete_role_policy must delete exactly the named policy"
    );
    assert_eq!(
        ok(
            store.list_role_policies(&other, "r").await,
            "list_role_policies"
        ),
        vec![("z".to_owned(), doc(4))],
        "store conformance: role policies are scoped to their account"
    );

    let tag = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    ok(
        store
            .tag_role(&account, "r", &[tag("b", "1"), tag("a", "2")])
            .await,
        "tag_role",
    );
    ok(
        store.tag_role(&account, "r", &[tag("b", "3")]).await,
        "tag_role",
    );
    ok(
        store.tag_role(&other, "r", &[tag("z", "9")]).await,
        "tag_role",
    );
    assert_eq!(
        ok(store.list_role_tags(&account, "r").await, "list_role_tags"),
        vec![tag("a", "2"), tag("b", "3")],
        "store conformance: tag_role must replace by key and list in key order"
    );
    ok(
        store
            .untag_role(&account, "r", &["a".to_owned(), "missing".to_owned()])
            .await,
        "untag_role",
    );
    assert_eq!(
        ok(store.list_role_tags(&account, "r").await, "list_role_tags"),
        vec![tag("b", "3")],
        "store conformance: untag_role must remove the named keys only"
    );
    assert_eq!(
        ok(store.list_role_tags(&other, "r").await, "list_role_tags"),
        vec![tag("z", "9")],
        "store conformance: role tags are scoped to their account"
    );
}
