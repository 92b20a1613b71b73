//! The suite, generic over any [`Store`]. [`store_suite!`] turns each test
//! below into a `#[tokio::test]` against the store a constructor opens.

use desk_server::{
    auth::tokens,
    store::{EmbedToken, NewUser, Store, TicketFilter, TicketKey},
};
use desk_sync::model::{Actor, NewTicket, Priority, Role, Ticket};
use uuid::Uuid;

pub mod api_tokens;
pub mod caches;
pub mod change_log;
pub mod idempotency;
pub mod projects;
pub mod push;
pub mod sessions;
pub mod tickets;
pub mod users;
pub mod webhooks;

/// Every test of the suite, as `module::test`. A new test is added here
/// and every store runs it.
#[macro_export]
macro_rules! store_suite {
    ($open:path) => {
        $crate::store_suite!(@each $open;
            tickets::numbers_are_gap_free_under_concurrent_creates,
            tickets::a_repeated_create_is_the_same_ticket_and_a_different_one_conflicts,
            tickets::if_match_refuses_a_stale_version_and_changes_nothing,
            tickets::only_the_allowed_status_transitions_apply,
            tickets::each_role_sees_and_lists_only_its_tickets,
            tickets::what_a_role_may_not_do_is_refused,
            tickets::internal_notes_are_hidden_from_customers,
            tickets::a_ticket_read_by_its_embed_token_has_only_public_comments,
            tickets::history_records_every_change_oldest_first,
            tickets::staff_write_for_a_customer_and_history_names_both,
            tickets::list_filters_and_sorts_agree_with_the_tickets,
            tickets::a_common_word_pages_exactly_and_totals_closely,
            tickets::a_ticket_takes_comments_up_to_the_cap_and_no_more,
            projects::keys_are_gap_free_per_project_under_concurrent_creates,
            projects::moves_and_creates_into_one_project_at_once_leave_no_gap,
            projects::a_ticket_is_found_by_its_key_within_its_readers_view,
            projects::a_moved_ticket_gets_the_next_key_and_keeps_answering_to_its_old_one,
            projects::customers_file_only_where_they_may_choose,
            projects::a_listing_pinned_to_a_project_holds_its_tickets_and_their_total,
            projects::projects_are_made_changed_and_deleted_by_their_rules,
            projects::bulk_loads_and_pushes_file_into_projects,
            change_log::the_change_log_has_one_entry_per_write_in_commit_order,
            change_log::concurrent_writes_are_logged_once_each_in_order,
            change_log::a_ticket_that_leaves_a_view_is_pulled_as_removed,
            change_log::live_notices_say_whom_a_change_concerns,
            change_log::bootstrap_is_the_callers_view_and_its_cursor,
            change_log::a_cursor_names_its_change_by_number_and_mark,
            push::pushed_ops_apply_and_a_resent_op_is_a_duplicate,
            push::a_stale_field_op_is_a_conflict_naming_the_current_value,
            push::a_batch_that_skips_numbers_is_a_gap_and_applies_nothing,
            push::a_client_id_belongs_to_one_user,
            users::users_are_created_once_per_email_and_listed_by_role,
            users::a_refresh_token_rotates_once_within_its_family,
            users::a_reused_refresh_token_revokes_its_family,
            users::logout_and_expiry_end_refresh_tokens,
            users::deactivation_revokes_sessions_and_shows_at_once,
            sessions::a_denied_access_token_is_refused_until_it_expires_and_is_swept,
            sessions::voiding_a_users_tokens_is_never_undone,
            sessions::a_sweep_keeps_what_may_still_be_asked_for,
            caches::a_renamed_user_is_read_renamed_everywhere,
            caches::an_embed_view_follows_its_ticket_and_its_token,
            caches::a_list_page_shows_every_write_and_its_total,
            api_tokens::an_api_token_is_found_by_its_digest_until_revoked,
            api_tokens::a_write_through_a_token_names_the_bot_and_its_customer,
            webhooks::an_endpoint_starts_at_the_log_head_and_reads_back,
            webhooks::only_a_finished_log_delivery_moves_the_cursor,
            webhooks::the_earliest_due_delivery_comes_first,
            webhooks::old_deliveries_done_with_are_swept_but_not_a_failing_endpoints,
            idempotency::a_key_runs_its_request_once_and_answers_it_again,
            idempotency::a_released_or_lost_request_frees_its_key_for_the_same_request,
            idempotency::a_key_is_honoured_for_a_day_and_then_swept,
            idempotency::of_concurrent_requests_with_one_key_one_starts,
        );
    };
    (@each $open:path; $($module:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                // A store whose database is not on this machine skips,
                // saying so (see `desk_testkit::postgres`).
                let Some(opened) = $open(stringify!($test)).await else {
                    return;
                };
                let fixture = $crate::suite::Fixture::new(opened).await;
                $crate::suite::$module::$test(fixture).await;
            }
        )*
    };
}

/// A store just opened, with whatever must outlive it (its folder).
pub struct Opened<S> {
    store: S,
    _keep: Box<dyn Send>,
}

impl<S: Store> Opened<S> {
    pub fn new(store: S, keep: impl Send + 'static) -> Self {
        Opened {
            store,
            _keep: Box::new(keep),
        }
    }

    /// The store, for a test of one implementation's own promise.
    pub fn store(&self) -> &S {
        &self.store
    }
}

/// A store with the cast every test uses: an admin, two agents, two
/// customers.
pub struct Fixture<S> {
    pub store: S,
    pub admin: Actor,
    pub bob: Actor,
    pub dave: Actor,
    pub alice: Actor,
    pub erin: Actor,
    _keep: Box<dyn Send>,
}

impl<S: Store> Fixture<S> {
    pub async fn new(opened: Opened<S>) -> Self {
        let store = opened.store;
        let user = async |email: &str, name: &str, role| Actor {
            id: store
                .create_user(NewUser {
                    id: Uuid::now_v7(),
                    email: email.into(),
                    name: name.into(),
                    role,
                    password_hash: "not a real hash".into(),
                })
                .await
                .unwrap()
                .id,
            role,
            via: None,
        };
        let admin = user("carol@example.com", "Carol", Role::Admin).await;
        let bob = user("bob@example.com", "Bob", Role::Agent).await;
        let dave = user("dave@example.com", "Dave", Role::Agent).await;
        let alice = user("alice@example.com", "Alice", Role::Customer).await;
        let erin = user("erin@example.com", "Erin", Role::Customer).await;
        Fixture {
            store,
            admin,
            bob,
            dave,
            alice,
            erin,
            _keep: opened._keep,
        }
    }

    /// A new ticket with `subject`, created by `by`.
    pub async fn create(&self, by: Actor, subject: &str) -> Ticket {
        self.create_with(by, new_ticket(subject, Priority::Normal))
            .await
    }

    pub async fn create_with(&self, by: Actor, new: NewTicket) -> Ticket {
        self.store.create_ticket(by, new, embed()).await.unwrap()
    }

    /// A ticket by `alice`, assigned by the admin to `to`.
    pub async fn assigned(&self, subject: &str, to: Actor) -> Ticket {
        let ticket = self.create(self.alice, subject).await;
        self.store
            .assign_ticket(self.admin, TicketKey::Id(ticket.id), Some(to.id))
            .await
            .unwrap()
    }

    /// The subjects of page 1 (up to 200) as `actor` lists them, and the total.
    pub async fn listed(&self, actor: Actor, filter: TicketFilter) -> (Vec<String>, u64) {
        let page = self.page_one(actor, filter).await;
        let subjects = page
            .items
            .iter()
            .map(|json| {
                let value = serde_json::to_value(json).unwrap();
                value["subject"].as_str().unwrap().to_string()
            })
            .collect();
        (subjects, page.total)
    }

    /// Page 1 as `actor` lists it, each ticket as its JSON.
    pub async fn listed_json(&self, actor: Actor) -> Vec<serde_json::Value> {
        self.page_one(actor, TicketFilter::default())
            .await
            .items
            .iter()
            .map(|json| serde_json::to_value(json).unwrap())
            .collect()
    }

    /// Page 1 (up to 200) of `filter` as `actor` lists it.
    async fn page_one(
        &self,
        actor: Actor,
        filter: TicketFilter,
    ) -> desk_sync::wire::Page<desk_server::store::TicketJson> {
        self.store
            .list_tickets(
                actor,
                TicketFilter {
                    page: 1,
                    per_page: 200,
                    ..filter
                },
            )
            .await
            .unwrap()
    }
}

pub fn new_ticket(subject: &str, priority: Priority) -> NewTicket {
    NewTicket::new(None, subject, Some("details"), Some(priority), None).unwrap()
}

pub fn embed() -> EmbedToken {
    tokens::new_embed_token().unwrap()
}

/// Sorted, for comparing sets of subjects.
pub fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}
