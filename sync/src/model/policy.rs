//! Who may see what and do what: the permission table of docs/API.md, in one file.
//!
//! | role     | sees tickets        | may                                                        |
//! |----------|---------------------|------------------------------------------------------------|
//! | customer | they requested      | create, read, comment publicly, rotate their embed link    |
//! | agent    | assigned to them    | + edit fields, comment internally                          |
//! | admin    | all                 | + assign, rotate any embed link, manage users              |
//!
//! Staff and API tokens may also write as a customer ([`Via`]): such a
//! write is judged as the customer's, on a ticket the staff member sees.
//!
//! A ticket outside the caller's view is "not found", never "forbidden", so
//! its existence does not leak. Every check here is a pure function; the
//! server calls them inside the write that acts on their answer, so nothing
//! changes between the check and the act.

use uuid::Uuid;

use super::{Project, ProjectKey, Role, Status, Ticket, TicketPatch, User};
use crate::RuleError;

/// Who is asking: the user and the role the server knows them by now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub role: Role,
    /// Who writes as `id` when it is not the user's own doing
    /// (docs/API.md › API tokens, › On behalf of a customer); `None`: the
    /// user themselves.
    pub via: Option<Via>,
}

/// Through whom a write comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An API token. When it is the actor's `id` itself, the bot acts as
    /// itself: it reads every ticket as a customer reads theirs (no
    /// internal notes). Otherwise `id` is the customer the bot writes for.
    Token(Uuid),
    /// An agent or admin writing as the customer `id`: a ticket filed for
    /// them, a reply they gave by phone or mail.
    Staff { id: Uuid, role: Role },
}

/// The tickets an actor can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    AssignedTo(Uuid),
    RequestedBy(Uuid),
}

impl Actor {
    /// Someone acting as themselves.
    pub fn person(id: Uuid, role: Role) -> Actor {
        Actor {
            id,
            role,
            via: None,
        }
    }

    /// An API token acting as itself.
    pub fn bot(token: Uuid) -> Actor {
        Actor {
            id: token,
            role: Role::Customer,
            via: Some(Via::Token(token)),
        }
    }

    /// May this actor name the customer a write is for (`requester`,
    /// `author`)? An API token and staff may; a customer acts as
    /// themselves only.
    pub fn acts_for_customers(&self) -> bool {
        self.is_bot_itself() || (self.via.is_none() && self.role.is_staff())
    }

    /// The customer `customer`, acting through this actor: its token, or
    /// this agent or admin. Only for an actor that
    /// [`acts_for_customers`](Self::acts_for_customers).
    pub fn on_behalf_of(&self, customer: Uuid) -> Actor {
        let via = match self.via {
            Some(Via::Token(token)) => Via::Token(token),
            _ => Via::Staff {
                id: self.id,
                role: self.role,
            },
        };
        Actor {
            id: customer,
            role: Role::Customer,
            via: Some(via),
        }
    }

    /// A bot acting as itself, not for a customer.
    pub fn is_bot_itself(&self) -> bool {
        self.via == Some(Via::Token(self.id))
    }

    /// A bot writing for the customer `id`.
    pub fn is_bot_for_customer(&self) -> bool {
        matches!(self.via, Some(Via::Token(token)) if token != self.id)
    }

    /// The agent or admin writing as this customer, if one is.
    pub fn staff(&self) -> Option<Actor> {
        match self.via {
            Some(Via::Staff { id, role }) => Some(Actor::person(id, role)),
            _ => None,
        }
    }

    /// Whose tickets a listing shows. For staff writing for a customer,
    /// the customer's (such an actor never lists; [`can_see`](Self::can_see)
    /// also asks the staff member's view).
    pub fn scope(&self) -> Scope {
        if self.is_bot_itself() {
            return Scope::All;
        }
        match self.role {
            Role::Admin => Scope::All,
            Role::Agent => Scope::AssignedTo(self.id),
            Role::Customer => Scope::RequestedBy(self.id),
        }
    }

    /// Can this actor see `ticket`? Staff writing for a customer see what
    /// both see: the customer's ticket, in the staff member's view.
    pub fn can_see(&self, ticket: &Ticket) -> bool {
        let assignee = ticket.assignee.as_ref().map(|a| a.id);
        self.scope().contains(ticket.requester.id, assignee)
            && self.staff().is_none_or(|staff| staff.can_see(ticket))
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl Scope {
    pub fn contains(&self, requester: Uuid, assignee: Option<Uuid>) -> bool {
        match *self {
            Scope::All => true,
            Scope::AssignedTo(id) => assignee == Some(id),
            Scope::RequestedBy(id) => requester == id,
        }
    }
}

/// Something done to one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketAction {
    /// The ticket, its visible comments and its history.
    Read,
    Comment {
        internal: bool,
    },
    /// Status, priority, subject, description or tags.
    Edit,
    Assign,
    RotateEmbed,
}

/// May `actor` do `action` to `ticket`?
pub fn authorize(actor: &Actor, ticket: &Ticket, action: TicketAction) -> Result<(), RuleError> {
    use TicketAction::*;
    if !actor.can_see(ticket) {
        return Err(RuleError::NotFound("ticket"));
    }
    let refusal = match (actor.role, action) {
        (_, Read) => None,
        _ if actor.is_bot_itself() => Some("an API token writes on behalf of a customer"),
        (Role::Admin, _) => None,
        (_, RotateEmbed) if ticket.requester.id == actor.id => None,
        (_, RotateEmbed) => Some("only the requester or an admin may rotate the embed link"),
        (_, Assign) => Some("only admins may assign tickets"),
        (Role::Agent, Comment { .. } | Edit) => None,
        (Role::Customer, Comment { internal: false }) => None,
        (Role::Customer, Comment { internal: true }) => {
            Some("customers cannot post internal comments")
        }
        (Role::Customer, Edit) => Some("customers cannot change tickets; add a comment instead"),
    };
    refusal.map_or(Ok(()), |why| Err(RuleError::Forbidden(why)))
}

/// May `actor` make this edit? Any field present counts as an edit, even one
/// that would not change: the request itself is what is authorized.
pub fn authorize_patch(
    actor: &Actor,
    ticket: &Ticket,
    patch: &TicketPatch,
) -> Result<(), RuleError> {
    let edits_anything = patch != &TicketPatch::default();
    // A bot may close a ticket for its requester (resolved, as they would
    // say in a reply), and change nothing else.
    let closes_only = patch
        == &TicketPatch {
            status: Some(Status::Closed),
            ..Default::default()
        };
    if actor.is_bot_for_customer() && closes_only {
        return authorize(actor, ticket, TicketAction::Comment { internal: false });
    }
    let action = if edits_anything {
        TicketAction::Edit
    } else {
        TicketAction::Read
    };
    authorize(actor, ticket, action)
}

/// Internal notes and their history are for staff only.
pub fn can_read_internal(actor: &Actor) -> bool {
    actor.role.is_staff()
}

/// Whom a new ticket is assigned to: a ticket an agent files — their own,
/// or one for a customer — is theirs to work (otherwise it would vanish
/// from their view the moment they filed it); customers', bots' and
/// admins' tickets wait in the triage queue.
pub fn initial_assignee(actor: &Actor) -> Option<Uuid> {
    let filer = actor.staff().unwrap_or(*actor);
    (filer.role == Role::Agent).then_some(filer.id)
}

/// Which users a listing may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserScope {
    Everyone,
    /// Agents and admins.
    Staff,
}

/// `GET /api/v1/users`: admins list anyone; agents list agents and admins.
pub fn authorize_user_list(
    actor: &Actor,
    role_filter: Option<Role>,
) -> Result<UserScope, RuleError> {
    match (actor.role, role_filter) {
        (Role::Admin, _) => Ok(UserScope::Everyone),
        (Role::Agent, Some(Role::Customer)) => Err(RuleError::Forbidden(
            "agents may list agents and admins only",
        )),
        (Role::Agent, _) => Ok(UserScope::Staff),
        (Role::Customer, _) => Err(RuleError::Forbidden("customers cannot list users")),
    }
}

impl UserScope {
    pub fn contains(&self, role: Role) -> bool {
        match self {
            UserScope::Everyone => true,
            UserScope::Staff => role.is_staff(),
        }
    }
}

/// Can `actor` see `target` at all? Themselves, admins everyone, staff each
/// other (agents pick colleagues when handing work over).
pub fn can_see_user(actor: &Actor, target: &User) -> bool {
    actor.is_admin() || actor.id == target.id || (actor.role.is_staff() && target.role.is_staff())
}

/// `GET /api/v1/users/{id}`: self or admin. Colleagues an agent can list
/// are visible, so reading their record is forbidden rather than not found.
pub fn authorize_user_read(actor: &Actor, target: &User) -> Result<(), RuleError> {
    if !can_see_user(actor, target) {
        Err(RuleError::NotFound("user"))
    } else if actor.is_admin() || actor.id == target.id {
        Ok(())
    } else {
        Err(RuleError::Forbidden(
            "only admins may read other users; list agents instead",
        ))
    }
}

pub fn authorize_user_create(actor: &Actor) -> Result<(), RuleError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(RuleError::Forbidden("only admins may create users"))
    }
}

/// `/api/v1/tokens`: API tokens are made, listed and revoked by admins
/// (an API token never manages tokens: the router refuses it first).
pub fn authorize_token_admin(actor: &Actor) -> Result<(), RuleError> {
    if actor.is_admin() && actor.via.is_none() {
        Ok(())
    } else {
        Err(RuleError::Forbidden("only admins may manage API tokens"))
    }
}

/// What a user update touches, for authorization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserEdit {
    pub name: bool,
    pub password: bool,
    /// A role that differs from the current one.
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// `PATCH` and `DELETE /api/v1/users/{id}` (a delete is `active: false`).
pub fn authorize_user_edit(actor: &Actor, target: &User, edit: UserEdit) -> Result<(), RuleError> {
    if !can_see_user(actor, target) {
        return Err(RuleError::NotFound("user"));
    }
    let touches_access = edit.role.is_some() || edit.active.is_some();
    let is_self = actor.id == target.id;
    if actor.is_admin() {
        let demotes_self = edit.role.is_some_and(|r| r != Role::Admin);
        if is_self && (demotes_self || edit.active == Some(false)) {
            return Err(RuleError::Forbidden(
                "admins cannot demote or deactivate themselves; ask another admin",
            ));
        }
        return Ok(());
    }
    match (is_self, touches_access) {
        (true, false) => Ok(()),
        (true, true) => Err(RuleError::Forbidden(
            "only admins may change roles or deactivate users",
        )),
        (false, _) => Err(RuleError::Forbidden("only admins may change other users")),
    }
}

/// `POST`, `PATCH` and `DELETE /api/v1/projects…`: projects are the
/// admins' to shape.
pub fn authorize_project_admin(actor: &Actor) -> Result<(), RuleError> {
    if actor.is_admin() && actor.via.is_none() {
        Ok(())
    } else {
        Err(RuleError::Forbidden("only admins may manage projects"))
    }
}

/// Staff see every project (the console lists them to file and move
/// tickets); customers, and bots filing for them, only those they may
/// file into.
pub fn can_see_project(actor: &Actor, project: &Project) -> bool {
    actor.role.is_staff() || project.customers_may_choose
}

/// May `actor` file a new ticket into the project `key`, which lets
/// customers choose it (`Some(true)`), does not (`Some(false)`), or does
/// not exist (`None`)? Staff into any project there is; customers into the
/// default project (where their tickets go unasked) or one that lets them
/// choose it. A customer's refusal does not say whether the project
/// exists: they may not see it.
pub fn authorize_project_choice(
    actor: &Actor,
    key: &ProjectKey,
    customers_may_choose: Option<bool>,
) -> Result<(), RuleError> {
    // Staff filing for a customer who phoned in choose as staff: the
    // project is their triage decision, not the customer's.
    let staff = actor.role.is_staff() || actor.staff().is_some();
    match customers_may_choose {
        Some(_) if staff => Ok(()),
        None if staff => Err(super::project::unknown(key)),
        Some(true) => Ok(()),
        Some(false) if key.is_default() => Ok(()),
        _ => Err(RuleError::invalid(
            "project",
            "customers may file tickets only into the default project or one that lets them choose it",
        )),
    }
}

/// Webhooks are the admins' alone: others are refused the collection
/// (403) and see no endpoint in it (404, as for anything outside a view).
pub fn authorize_webhooks(actor: &Actor) -> Result<(), RuleError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(RuleError::Forbidden("only admins may manage webhooks"))
    }
}

/// One endpoint (see [`authorize_webhooks`]).
pub fn authorize_webhook(actor: &Actor) -> Result<(), RuleError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(RuleError::NotFound("webhook"))
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::model::{Priority, Status, UserRef};

    const CUSTOMER: Actor = Actor {
        id: Uuid::from_u128(1),
        role: Role::Customer,
        via: None,
    };
    const AGENT: Actor = Actor {
        id: Uuid::from_u128(2),
        role: Role::Agent,
        via: None,
    };
    const OTHER_AGENT: Actor = Actor {
        id: Uuid::from_u128(3),
        role: Role::Agent,
        via: None,
    };
    const ADMIN: Actor = Actor {
        id: Uuid::from_u128(4),
        role: Role::Admin,
        via: None,
    };
    const OTHER_CUSTOMER: Actor = Actor {
        id: Uuid::from_u128(5),
        role: Role::Customer,
        via: None,
    };

    fn ticket(requester: Actor, assignee: Option<Actor>) -> Ticket {
        let user = |a: Actor| UserRef {
            id: a.id,
            name: format!("{:?}", a.role),
        };
        Ticket {
            id: Uuid::nil(),
            number: Some(1),
            project: Default::default(),
            key: None,
            subject: "s".into(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Normal,
            requester: user(requester),
            assignee: assignee.map(user),
            tags: vec![],
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 1,
            embed_url: None,
        }
    }

    fn verdict(actor: &Actor, t: &Ticket, action: TicketAction) -> &'static str {
        match authorize(actor, t, action) {
            Ok(()) => "ok",
            Err(RuleError::NotFound(_)) => "404",
            Err(RuleError::Forbidden(_)) => "403",
            Err(_) => "other",
        }
    }

    #[test]
    fn the_permission_table() {
        use TicketAction::*;
        let t = ticket(CUSTOMER, Some(AGENT));
        let actions = [
            Read,
            Comment { internal: false },
            Comment { internal: true },
            Edit,
            Assign,
            RotateEmbed,
        ];
        let table: [(Actor, [&str; 6]); 5] = [
            (CUSTOMER, ["ok", "ok", "403", "403", "403", "ok"]),
            (OTHER_CUSTOMER, ["404"; 6]),
            (AGENT, ["ok", "ok", "ok", "ok", "403", "403"]),
            (OTHER_AGENT, ["404"; 6]),
            (ADMIN, ["ok"; 6]),
        ];
        for (actor, expected) in table {
            for (action, want) in actions.iter().zip(expected) {
                assert_eq!(verdict(&actor, &t, *action), want, "{actor:?} {action:?}");
            }
        }
    }

    #[test]
    fn a_bot_reads_every_ticket_and_changes_none() {
        use TicketAction::*;
        let bot = Actor::bot(Uuid::from_u128(9));
        let t = ticket(CUSTOMER, Some(AGENT));
        assert_eq!(verdict(&bot, &t, Read), "ok");
        for action in [
            Comment { internal: false },
            Comment { internal: true },
            Edit,
            Assign,
            RotateEmbed,
        ] {
            assert_eq!(verdict(&bot, &t, action), "403", "{action:?}");
        }
        assert!(!can_read_internal(&bot));
        let for_customer = bot.on_behalf_of(CUSTOMER.id);
        assert_eq!(
            verdict(&for_customer, &t, Comment { internal: false }),
            "ok"
        );
        assert_eq!(
            verdict(&for_customer, &t, Comment { internal: true }),
            "403"
        );
        assert_eq!(
            verdict(&bot.on_behalf_of(OTHER_CUSTOMER.id), &t, Read),
            "404"
        );
        let close = TicketPatch {
            status: Some(Status::Closed),
            ..Default::default()
        };
        assert!(authorize_patch(&for_customer, &t, &close).is_ok());
        assert!(
            authorize_patch(&CUSTOMER, &t, &close).is_err(),
            "customers themselves may not"
        );
        let more = TicketPatch {
            priority: Some(Priority::Low),
            ..close.clone()
        };
        assert!(authorize_patch(&for_customer, &t, &more).is_err());
    }

    #[test]
    fn staff_write_for_a_customer_where_both_see_the_ticket() {
        use TicketAction::*;
        let t = ticket(CUSTOMER, Some(AGENT));
        assert!(AGENT.acts_for_customers() && ADMIN.acts_for_customers());
        assert!(Actor::bot(Uuid::from_u128(9)).acts_for_customers());
        assert!(!CUSTOMER.acts_for_customers());
        let by_agent = AGENT.on_behalf_of(CUSTOMER.id);
        assert!(!by_agent.acts_for_customers(), "once is enough");
        assert_eq!(by_agent.staff(), Some(AGENT));
        assert_eq!(verdict(&by_agent, &t, Comment { internal: false }), "ok");
        assert_eq!(
            verdict(&by_agent, &t, Comment { internal: true }),
            "403",
            "the customer's reply is public"
        );
        assert_eq!(verdict(&by_agent, &t, Edit), "403");
        assert_eq!(
            verdict(&OTHER_AGENT.on_behalf_of(CUSTOMER.id), &t, Read),
            "404",
            "not in the agent's view"
        );
        assert_eq!(
            verdict(&AGENT.on_behalf_of(OTHER_CUSTOMER.id), &t, Read),
            "404",
            "not the customer's ticket"
        );
        assert_eq!(
            verdict(
                &ADMIN.on_behalf_of(CUSTOMER.id),
                &t,
                Comment { internal: false }
            ),
            "ok"
        );
        assert!(!can_read_internal(&by_agent));
        // An agent keeps what they file for a customer; an admin's waits.
        assert_eq!(initial_assignee(&by_agent), Some(AGENT.id));
        assert_eq!(initial_assignee(&ADMIN.on_behalf_of(CUSTOMER.id)), None);
        assert_eq!(
            initial_assignee(&Actor::bot(Uuid::from_u128(9)).on_behalf_of(CUSTOMER.id)),
            None
        );
    }

    #[test]
    fn unassigned_tickets_are_invisible_to_agents() {
        let t = ticket(CUSTOMER, None);
        assert_eq!(verdict(&AGENT, &t, TicketAction::Read), "404");
        assert_eq!(verdict(&ADMIN, &t, TicketAction::Read), "ok");
    }

    #[test]
    fn an_empty_patch_is_only_a_read() {
        let t = ticket(CUSTOMER, None);
        assert!(authorize_patch(&CUSTOMER, &t, &TicketPatch::default()).is_ok());
        let edit = TicketPatch {
            priority: Some(Priority::High),
            ..Default::default()
        };
        assert!(matches!(
            authorize_patch(&CUSTOMER, &t, &edit),
            Err(RuleError::Forbidden(_))
        ));
    }

    #[test]
    fn agents_own_what_they_file() {
        assert_eq!(initial_assignee(&AGENT), Some(AGENT.id));
        assert_eq!(initial_assignee(&CUSTOMER), None);
        assert_eq!(initial_assignee(&ADMIN), None);
    }

    #[test]
    fn project_rules() {
        let project = |key: &str, customers_may_choose| Project {
            key: key.parse().unwrap(),
            name: key.into(),
            members: vec![],
            default_sla: None,
            customers_may_choose,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let (desk, bill, tech) = (
            project("DESK", false),
            project("BILL", true),
            project("TECH", false),
        );
        let choice = |actor: &Actor, p: &Project| {
            authorize_project_choice(actor, &p.key, Some(p.customers_may_choose))
        };
        let missing: ProjectKey = "NOPE".parse().unwrap();
        for staff in [AGENT, ADMIN] {
            assert!(can_see_project(&staff, &tech));
            assert!(choice(&staff, &tech).is_ok());
            assert!(authorize_project_choice(&staff, &missing, None).is_err());
        }
        assert!(can_see_project(&CUSTOMER, &bill));
        assert!(!can_see_project(&CUSTOMER, &tech));
        assert!(choice(&CUSTOMER, &bill).is_ok());
        assert!(
            choice(&CUSTOMER, &desk).is_ok(),
            "where their tickets go unasked"
        );
        let refused = |r: Result<(), RuleError>| match r {
            Err(RuleError::Validation(why)) => why["project"].clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(choice(&CUSTOMER, &tech)),
            refused(authorize_project_choice(&CUSTOMER, &missing, None)),
            "a customer cannot tell a closed project from none"
        );
        let bot = Actor::bot(Uuid::from_u128(9));
        assert!(!can_see_project(&bot, &tech));
        assert!(choice(&bot.on_behalf_of(CUSTOMER.id), &tech).is_err());
        for staff in [AGENT, ADMIN] {
            let for_customer = staff.on_behalf_of(CUSTOMER.id);
            assert!(choice(&for_customer, &tech).is_ok(), "{staff:?}");
            assert!(authorize_project_choice(&for_customer, &missing, None).is_err());
        }
        assert!(authorize_project_admin(&ADMIN).is_ok());
        for other in [AGENT, CUSTOMER, bot] {
            assert!(matches!(
                authorize_project_admin(&other),
                Err(RuleError::Forbidden(_))
            ));
        }
    }

    #[test]
    fn moving_a_ticket_is_an_edit() {
        let t = ticket(CUSTOMER, Some(AGENT));
        let moving = TicketPatch {
            project: "BILL".parse().ok(),
            ..Default::default()
        };
        assert!(authorize_patch(&AGENT, &t, &moving).is_ok());
        assert!(authorize_patch(&ADMIN, &t, &moving).is_ok());
        assert!(matches!(
            authorize_patch(&CUSTOMER, &t, &moving),
            Err(RuleError::Forbidden(_))
        ));
        let bot = Actor::bot(Uuid::from_u128(9)).on_behalf_of(CUSTOMER.id);
        assert!(authorize_patch(&bot, &t, &moving).is_err());
    }

    fn user(a: Actor) -> User {
        User {
            id: a.id,
            email: "x@example.com".into(),
            name: "x".into(),
            role: a.role,
            active: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn user_rules() {
        assert_eq!(
            authorize_user_list(&ADMIN, Some(Role::Customer)),
            Ok(UserScope::Everyone)
        );
        assert_eq!(authorize_user_list(&AGENT, None), Ok(UserScope::Staff));
        assert!(authorize_user_list(&AGENT, Some(Role::Customer)).is_err());
        assert!(authorize_user_list(&CUSTOMER, None).is_err());

        assert!(can_see_user(&AGENT, &user(OTHER_AGENT)));
        assert!(authorize_user_read(&AGENT, &user(AGENT)).is_ok());
        assert!(authorize_user_read(&ADMIN, &user(CUSTOMER)).is_ok());
        assert!(matches!(
            authorize_user_read(&AGENT, &user(OTHER_AGENT)),
            Err(RuleError::Forbidden(_))
        ));
        assert!(matches!(
            authorize_user_read(&CUSTOMER, &user(OTHER_CUSTOMER)),
            Err(RuleError::NotFound(_))
        ));
        assert!(!can_see_user(&AGENT, &user(CUSTOMER)));
        assert!(!can_see_user(&CUSTOMER, &user(OTHER_CUSTOMER)));

        let rename = UserEdit {
            name: true,
            ..Default::default()
        };
        let promote = UserEdit {
            role: Some(Role::Admin),
            ..Default::default()
        };
        let deactivate = UserEdit {
            active: Some(false),
            ..Default::default()
        };
        assert!(authorize_user_edit(&CUSTOMER, &user(CUSTOMER), rename).is_ok());
        assert!(matches!(
            authorize_user_edit(&CUSTOMER, &user(CUSTOMER), promote),
            Err(RuleError::Forbidden(_))
        ));
        assert!(matches!(
            authorize_user_edit(&CUSTOMER, &user(OTHER_CUSTOMER), rename),
            Err(RuleError::NotFound(_))
        ));
        assert!(matches!(
            authorize_user_edit(&AGENT, &user(OTHER_AGENT), rename),
            Err(RuleError::Forbidden(_))
        ));
        assert!(authorize_user_edit(&ADMIN, &user(AGENT), deactivate).is_ok());
        assert!(matches!(
            authorize_user_edit(&ADMIN, &user(ADMIN), deactivate),
            Err(RuleError::Forbidden(_))
        ));
    }
}
