//! The sync protocol under random weather (docs/SYNC.md › what the tests must
//! prove): 2–4 clients of different roles over one in-memory server,
//! random edits on random tickets, partitions, requests that fail before
//! reaching the server or after it acted (lost answers), dropped pokes,
//! client restarts, colleagues editing on the server, and the server
//! changing epoch, truncating its log, or going back to a backup of its
//! whole state, lineage included (so its epoch stays and change numbers are
//! handed out again). At quiescence every replica's view equals what the
//! server shows its user, and every op a client queued was applied or sits
//! in that client's conflict inbox — save those a restore took back after
//! the client had seen them confirmed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use desk_sync::{
    client::{
        Engine, Fault, Flaky, MemoryRemote, MemoryServer, PokeStream, Remote, Replica,
        remote::memory::sample_users,
    },
    model::{OpKind, Priority, Status},
    wire::sync::{Outcome, SyncUser},
};
use futures_util::{FutureExt, StreamExt};
use proptest::prelude::*;
use tokio::runtime::Runtime;
use uuid::Uuid;

const TAGS: [&str; 4] = ["ios", "android", "billing", "vip"];

#[derive(Debug, Clone)]
enum Edit {
    Status(Status),
    Priority(Priority),
    Subject(u8),
    Tags {
        add: usize,
        remove: usize,
    },
    /// An index into the staff, or unassign.
    Assign(Option<usize>),
    Comment {
        internal: bool,
    },
}

#[derive(Debug, Clone)]
enum Action {
    /// `pick` chooses among the tickets the client sees.
    Edit {
        client: usize,
        pick: usize,
        edit: Edit,
    },
    Create {
        client: usize,
        priority: Priority,
    },
    /// One round; the `nth` remote call of it fails, if given.
    Sync {
        client: usize,
        fault: Option<(u64, Fault)>,
    },
    /// Deliver waiting pokes, dropping those not in `keep`; sync on news.
    Pokes {
        client: usize,
        keep: u32,
    },
    /// Drop the engine and replica; reopen from the same directory.
    Restart {
        client: usize,
    },
    Partition {
        client: usize,
        down: bool,
    },
    /// The admin edits on the web: straight into the server.
    Colleague {
        pick: usize,
        edit: Edit,
    },
    EpochReset,
    TruncateLog,
    /// The operator copies the server's whole state.
    Backup,
    /// The operator puts the last backup back, lineage and all.
    Restore,
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => status().prop_map(Edit::Status),
        2 => priority().prop_map(Edit::Priority),
        1 => (0u8..3).prop_map(Edit::Subject),
        2 => (0..TAGS.len(), 0..TAGS.len()).prop_map(|(add, remove)| Edit::Tags { add, remove }),
        2 => prop::option::of(0usize..3).prop_map(Edit::Assign),
        3 => any::<bool>().prop_map(|internal| Edit::Comment { internal }),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![Just(Fault::Drop), Just(Fault::LoseAnswer)]
}

fn action() -> impl Strategy<Value = Action> {
    let client = 0usize..4;
    prop_oneof![
        12 => (client.clone(), any::<usize>(), edit())
            .prop_map(|(client, pick, edit)| Action::Edit { client, pick, edit }),
        2 => (client.clone(), priority()).prop_map(|(client, priority)| Action::Create { client, priority }),
        8 => (client.clone(), prop::option::of((0u64..4, fault())))
            .prop_map(|(client, fault)| Action::Sync { client, fault }),
        3 => (client.clone(), any::<u32>()).prop_map(|(client, keep)| Action::Pokes { client, keep }),
        2 => client.clone().prop_map(|client| Action::Restart { client }),
        2 => (client.clone(), any::<bool>()).prop_map(|(client, down)| Action::Partition { client, down }),
        2 => (any::<usize>(), edit()).prop_map(|(pick, edit)| Action::Colleague { pick, edit }),
        1 => Just(Action::EpochReset),
        1 => Just(Action::TruncateLog),
        1 => Just(Action::Backup),
        1 => Just(Action::Restore),
    ]
}

struct Client {
    user: SyncUser,
    dir: tempfile::TempDir,
    remote: Flaky<MemoryRemote>,
    engine: Option<Engine<Flaky<MemoryRemote>>>,
    pokes: Option<PokeStream>,
    /// Every op this client queued.
    queued: Vec<Uuid>,
    /// Ops a restore may have taken back: confirmed to this client (gone
    /// from its queue) before the server went back to an older copy.
    excused: BTreeSet<Uuid>,
}

impl Client {
    fn new(server: &MemoryServer, user: &SyncUser) -> Client {
        let mut client = Client {
            user: user.clone(),
            dir: tempfile::tempdir().unwrap(),
            remote: Flaky::new(server.remote(user.id)),
            engine: None,
            pokes: None,
            queued: Vec::new(),
            excused: BTreeSet::new(),
        };
        client.open();
        client
    }

    fn open(&mut self) {
        let replica = Replica::open(self.dir.path()).unwrap();
        // The console sets the identity from its session at every start.
        replica.set_identity(&self.user).unwrap();
        self.engine = Some(Engine::new(replica.into(), self.remote.clone()));
    }

    fn restart(&mut self) {
        self.engine = None;
        self.pokes = None;
        self.open();
    }

    /// The server went back to an older copy: what this client had seen
    /// confirmed may be gone, and is the restore's loss, not sync's.
    fn excuse_confirmed(&mut self) {
        let pending: BTreeSet<Uuid> = self
            .replica()
            .pending_ops(usize::MAX)
            .unwrap()
            .iter()
            .map(|op| op.op_id)
            .collect();
        let confirmed = self.queued.iter().filter(|op| !pending.contains(op));
        self.excused.extend(confirmed);
    }

    fn engine(&self) -> &Engine<Flaky<MemoryRemote>> {
        self.engine.as_ref().unwrap()
    }

    fn replica(&self) -> &Replica {
        self.engine().replica()
    }

    /// Remembers the op just queued (the newest pending one).
    fn remember_last_op(&mut self) {
        let last = self
            .replica()
            .pending_ops(usize::MAX)
            .unwrap()
            .pop()
            .unwrap();
        self.queued.push(last.op_id);
    }

    fn edit(&mut self, pick: usize, edit: &Edit, staff: &[Uuid]) {
        let tickets = self.replica().tickets().unwrap();
        if tickets.is_empty() {
            return;
        }
        let id = tickets[pick % tickets.len()].detail.ticket.id;
        let r = self.replica();
        let queued = match edit {
            Edit::Status(to) => r.set_status(id, *to),
            Edit::Priority(to) => r.set_priority(id, *to),
            Edit::Subject(n) => r.set_subject(id, &format!("Subject {n}")),
            Edit::Tags { add, remove } => {
                r.set_tags(id, &[TAGS[*add].into()], &[TAGS[*remove].into()])
            }
            Edit::Assign(to) => r.assign(id, to.map(|i| staff[i])),
            Edit::Comment { internal } => r.comment(id, "a note", *internal).map(Some),
        };
        // A refusal (not allowed, not valid) queues nothing; so does a no-op.
        if let Ok(Some(_)) = queued {
            self.remember_last_op();
        }
    }

    fn sync(&self, rt: &Runtime) {
        // Failures are the weather; nothing is lost by them.
        let _ = rt.block_on(self.engine().sync_once());
    }

    fn deliver_pokes(&mut self, rt: &Runtime, keep: u32) {
        if self.pokes.is_none() {
            self.pokes = rt.block_on(self.remote.events()).ok();
        }
        let cursor = self.replica().cursor().unwrap();
        let Some(pokes) = self.pokes.as_mut() else {
            return;
        };
        let mut news = false;
        let mut n = 0;
        while let Some(Some(poke)) = pokes.next().now_or_never() {
            let kept = keep & (1 << (n % 32)) != 0;
            n += 1;
            match poke {
                Ok(poke) if kept => news |= cursor.is_none_or(|c| poke.seq > c),
                Ok(_) => {}
                Err(_) => {
                    self.pokes = None;
                    break;
                }
            }
        }
        if news {
            self.sync(rt);
        }
    }
}

/// A colleague's edit made in the web UI, against the server's current state.
fn colleague(server: &MemoryServer, admin: &SyncUser, pick: usize, edit: &Edit, staff: &[Uuid]) {
    let tickets = server.snapshot_for(admin.id);
    if tickets.is_empty() {
        return;
    }
    let t = &tickets[pick % tickets.len()].ticket;
    let kind = match edit {
        Edit::Status(to) => OpKind::SetStatus {
            from: t.status,
            to: *to,
        },
        Edit::Priority(to) => OpKind::SetPriority {
            from: t.priority,
            to: *to,
        },
        Edit::Subject(n) => OpKind::SetSubject {
            from: t.subject.clone(),
            to: format!("Web {n}"),
        },
        Edit::Tags { add, remove } => OpKind::SetTags {
            add: vec![TAGS[*add].into()],
            remove: vec![TAGS[*remove].into()],
        },
        Edit::Assign(to) => OpKind::Assign {
            from: t.assignee.as_ref().map(|a| a.id),
            to: to.map(|i| staff[i]),
        },
        Edit::Comment { internal } => OpKind::Comment {
            comment_id: Uuid::now_v7(),
            body: "from the web".into(),
            internal: *internal,
        },
    };
    server.apply_as(admin.id, t.id, kind).unwrap();
}

fn simulate(clients: usize, actions: Vec<Action>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = MemoryServer::new();
    let [ada, bob, dee, cat] = sample_users();
    for user in sample_users() {
        server.add_user(user);
    }
    let staff = [ada.id, bob.id, dee.id];
    for assignee in [None, Some(bob.id), Some(dee.id), Some(bob.id)] {
        server.admin_create_ticket(cat.id, "From the phone line", assignee);
    }
    // An admin, an agent, the customer, another agent.
    let roles = [&ada, &bob, &cat, &dee];
    let mut clients: Vec<Client> = roles[..clients]
        .iter()
        .map(|user| Client::new(&server, user))
        .collect();
    let n = clients.len();
    let mut backup = None;

    for action in actions {
        match action {
            Action::Edit { client, pick, edit } => clients[client % n].edit(pick, &edit, &staff),
            Action::Create { client, priority } => {
                let c = &mut clients[client % n];
                if c.replica()
                    .create_ticket("Filed offline", "", priority, &[])
                    .is_ok()
                {
                    c.remember_last_op();
                }
            }
            Action::Sync { client, fault } => {
                let c = &clients[client % n];
                if let Some((nth, fault)) = fault {
                    c.remote.fail_call(nth, fault);
                }
                c.sync(&rt);
            }
            Action::Pokes { client, keep } => clients[client % n].deliver_pokes(&rt, keep),
            Action::Restart { client } => clients[client % n].restart(),
            Action::Partition { client, down } => clients[client % n].remote.set_down(down),
            Action::Colleague { pick, edit } => colleague(&server, &ada, pick, &edit, &staff),
            Action::EpochReset => server.reset_epoch(),
            Action::TruncateLog => server.truncate_log(),
            Action::Backup => backup = Some(server.snapshot()),
            Action::Restore => {
                if let Some(copy) = backup.clone() {
                    server.restore_with_lineage(copy);
                    clients.iter_mut().for_each(Client::excuse_confirmed);
                }
            }
        }
    }

    // Quiescence: heal everything, sync until a whole pass changes nothing.
    for c in &clients {
        c.remote.heal();
    }
    let mut quiet = false;
    for _ in 0..10 {
        let mut changed = false;
        for c in &clients {
            let report = rt
                .block_on(c.engine().sync_once())
                .expect("a healed network syncs");
            changed |= report.changed_anything();
        }
        if !changed {
            quiet = true;
            break;
        }
    }
    assert!(quiet, "still changing after 10 passes");

    for c in &clients {
        let replica = c.replica();
        assert_eq!(
            replica.status().unwrap().pending,
            0,
            "{} has ops pending",
            c.user.name
        );
        let view: Vec<_> = replica
            .tickets()
            .unwrap()
            .into_iter()
            .map(|t| t.detail)
            .collect();
        assert_eq!(
            view,
            server.snapshot_for(c.user.id),
            "{}'s view",
            c.user.name
        );

        let inbox: BTreeSet<Uuid> = replica
            .conflicts()
            .unwrap()
            .iter()
            .map(|e| e.op.op_id)
            .collect();
        for op in c.queued.iter().filter(|op| !c.excused.contains(op)) {
            assert!(
                server.outcome_of(*op) == Some(Outcome::Applied) || inbox.contains(op),
                "{}'s op {op} is neither applied ({:?}) nor in the inbox",
                c.user.name,
                server.outcome_of(*op)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn replicas_converge_and_no_op_is_lost(
        clients in 2usize..=4,
        actions in prop::collection::vec(action(), 1..60),
    ) {
        simulate(clients, actions);
    }
}

/// The scenarios the property must survive, spelled out once.
#[test]
fn a_reassignment_under_partition_converges() {
    use Action::*;
    simulate(
        4,
        vec![
            Sync {
                client: 0,
                fault: None,
            },
            Sync {
                client: 1,
                fault: None,
            },
            Partition {
                client: 1,
                down: true,
            },
            Edit {
                client: 1,
                pick: 0,
                edit: self::Edit::Comment { internal: true },
            },
            Edit {
                client: 0,
                pick: 1,
                edit: self::Edit::Assign(Some(2)),
            },
            Sync {
                client: 0,
                fault: Some((0, Fault::LoseAnswer)),
            },
            Restart { client: 1 },
            EpochReset,
            Sync {
                client: 2,
                fault: Some((1, Fault::Drop)),
            },
        ],
    );
}

/// A restore, lineage and all, after a client pulled past the backup: the
/// numbers it stands on are handed out again for other changes.
#[test]
fn a_restore_with_its_lineage_after_a_pull_converges() {
    use Action::*;
    let sync = |client| Sync {
        client,
        fault: None,
    };
    let colleague = |pick| Colleague {
        pick,
        edit: self::Edit::Comment { internal: false },
    };
    simulate(
        2,
        vec![
            sync(0),
            sync(1),
            Backup,
            colleague(1),
            colleague(1),
            Edit {
                client: 1,
                pick: 0,
                edit: self::Edit::Priority(Priority::Urgent),
            },
            sync(1),
            sync(0),
            Restore,
            colleague(0),
            colleague(2),
            colleague(3),
            Edit {
                client: 1,
                pick: 0,
                edit: self::Edit::Comment { internal: true },
            },
        ],
    );
}
