//! The exact search behind `ask deploy`, on an abstract problem: persons to carry, kit to bring, carriers with the
//! two missions each of them could fly. Knows nothing of sites or items by name, so that tests can compare it with an
//! exhaustive search on small instances.
//!
//! # Model
//! - Each carrier (a free serviceable vehicle) flies at most one mission, leaving now: a **troop** mission (to the
//!   departure zone, then to the destination, with up to `seats` persons) or a **freight** mission (from the depot
//!   it stands at to the destination, with whole units of the kit that depot holds, within its payload and volume).
//!   A mission takes a known time and covers a known distance.
//! - A plan gives every carrier a role (troop, freight or idle), persons to the troop carriers and loads to the
//!   freight ones, so that every person rides, every unit of kit is carried, and no depot gives more than it has.
//! - Its **makespan** is the latest arrival of a carrier with a role; its **distance** the sum of their missions.
//!   The best plan has the smallest makespan, then the smallest distance.
//!
//! # Search
//! The makespan is one of the missions' durations. Relaxed conditions (enough seats, payload, volume and stock among
//! the carriers fast enough) give a first candidate; from there, a galloping then binary search finds the first
//! duration at which a plan exists: feasibility only grows with the duration. At that makespan, a branch and bound
//! over the carriers' roles finds the shortest total distance, bounded below by fractional covers of the seats,
//! mass and volume still needed. Loads are found by a depth-first packing over whole units that tries full loads
//! first. Each search has a node budget: when one runs out, the answer is still a valid plan but is not proven
//! best (`proven == false`); the tests hold small instances to `proven == true` and to the exhaustive optimum.

/// Mass and volume of one unit of an item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    pub mass_kg: f64,
    pub volume_m3: f64,
}

/// One mission a carrier could fly: how long it takes and how far it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mission {
    pub minutes: f64,
    pub km: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Carrier {
    pub seats: u32,
    pub payload_kg: f64,
    pub cargo_m3: f64,
    /// The depot the carrier stands at, when it holds some of the kit.
    pub depot: Option<usize>,
    /// Fetch persons at the departure zone and bring them (`None`: no seats, or no persons to carry).
    pub troop: Option<Mission>,
    /// Bring kit from its depot (`None`: not at a depot, or no room for goods).
    pub freight: Option<Mission>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub persons: u32,
    pub units: Vec<Unit>,
    /// Whole units of each item to bring.
    pub need: Vec<i64>,
    /// Whole units of each item available at each depot: `stock[depot][item]`.
    pub stock: Vec<Vec<i64>>,
    pub carriers: Vec<Carrier>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Idle,
    Troop,
    Freight,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub roles: Vec<Role>,
    /// Persons riding each carrier.
    pub persons: Vec<u32>,
    /// Units of each item each carrier brings (`loads[carrier][item]`).
    pub loads: Vec<Vec<i64>>,
    pub makespan_min: f64,
    pub km: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The best plan found; `None` when no plan brings everything.
    pub best: Option<Assignment>,
    /// Every search ran to its end: nothing arrives sooner, nothing as soon covers fewer kilometres.
    pub proven: bool,
    /// Nodes visited, roles and packing together.
    pub nodes: u64,
    /// No plan arrives before this many minutes (equal to the best makespan when proven).
    pub makespan_lower_bound: Option<f64>,
    /// No plan arriving as soon as the best one covers fewer kilometres (equal to its distance when proven).
    pub km_lower_bound: Option<f64>,
}

const EPS: f64 = 1e-9;

impl Problem {
    fn mass(&self, need: &[i64]) -> f64 {
        need.iter().zip(&self.units).map(|(&n, u)| n.max(0) as f64 * u.mass_kg).sum()
    }
    fn volume(&self, need: &[i64]) -> f64 {
        need.iter().zip(&self.units).map(|(&n, u)| n.max(0) as f64 * u.volume_m3).sum()
    }
    fn mission(&self, c: usize, role: Role) -> Option<Mission> {
        match role {
            Role::Idle => None,
            Role::Troop => self.carriers[c].troop,
            Role::Freight => self.carriers[c].freight,
        }
    }
    fn has_freight(&self) -> bool {
        self.need.iter().any(|&n| n > 0)
    }
    /// Whether the carrier may fly `role` within `limit` minutes and has something to do there.
    fn can(&self, c: usize, role: Role, limit: f64) -> bool {
        let ok = self.mission(c, role).is_some_and(|m| m.minutes <= limit + EPS);
        match role {
            Role::Idle => true,
            Role::Troop => ok && self.persons > 0 && self.carriers[c].seats > 0,
            Role::Freight => {
                ok && self.carriers[c].depot.is_some_and(|d| {
                    self.stock[d].iter().zip(&self.need).any(|(&s, &n)| s > 0 && n > 0)
                        && self.carriers[c].payload_kg > 0.0
                        && self.carriers[c].cargo_m3 > 0.0
                })
            }
        }
    }
}

/// Finds the best plan, spending about `budget` nodes in all (the last search, which minimises the distance, always
/// gets at least a quarter of it).
pub fn solve(p: &Problem, budget: u64) -> Outcome {
    solve_with(p, &Orders::of(p), budget)
}

/// [`solve`] with the carriers' orders already sorted (they depend on the carriers only, not on the need).
pub fn solve_with(p: &Problem, orders: &Orders, budget: u64) -> Outcome {
    let mut nodes = 0u64;
    let mut built = 0u64;
    let mut proven = true;
    if p.persons == 0 && !p.has_freight() {
        let n = p.carriers.len();
        let best = Assignment {
            roles: vec![Role::Idle; n],
            persons: vec![0; n],
            loads: vec![Vec::new(); n],
            makespan_min: 0.0,
            km: 0.0,
        };
        return Outcome { best: Some(best), proven, nodes, makespan_lower_bound: Some(0.0), km_lower_bound: Some(0.0) };
    }
    let mut times: Vec<f64> =
        p.carriers.iter().flat_map(|c| [c.troop, c.freight]).flatten().map(|m| m.minutes).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    // The first duration at which the relaxed conditions hold: nothing sooner can work.
    let useful = Useful::of(p);
    let first = times.partition_point(|&t| !relaxed(p, &useful, t));
    if first == times.len() {
        return Outcome { best: None, proven, nodes, makespan_lower_bound: None, km_lower_bound: None };
    }
    // Every duration before `bound` is proven too short.
    let mut bound = first;
    // Whether a plan exists within `times[i]`, spending what is left of the budget (`last_chance`: half the budget
    // of its own).
    let unsure = std::cell::Cell::new(false);
    let mut feasible = |i: usize, last_chance: bool| -> bool {
        // Out of budget, the search still builds its quick plan (which is not counted) but explores nothing.
        let allowance = if last_chance { budget / 2 } else { budget.saturating_sub(nodes) };
        let s = Search::run(p, orders, &useful, times[i], true, allowance);
        nodes += s.nodes;
        built += s.built;
        let sure = !s.exhausted && !s.unproven;
        proven &= sure;
        unsure.set(unsure.get() || !sure);
        if s.best.is_none() && sure && i >= bound {
            bound = i + 1;
        }
        s.best.is_some()
    };
    // Gallop from the first candidate, then bisect between the last failure and the first success.
    let last = times.len() - 1;
    let (mut lo, mut probe, mut step) = (first, first, 1);
    let mut found = loop {
        if feasible(probe, false) {
            break Some(probe);
        }
        if probe == last {
            break None;
        }
        lo = probe + 1;
        probe = (probe + step).min(last);
        step *= 2;
    };
    // Out of budget before any plan was found: the latest duration lets every carrier in, where the first dive
    // (the greedy plan) is most likely to succeed; a late plan is better than a shortfall that may not exist.
    if found.is_none() && unsure.get() && feasible(last, true) {
        found = Some(last);
    }
    let Some(mut hi) = found else {
        let makespan_lower_bound = times.get(bound).copied();
        return Outcome { best: None, proven, nodes: nodes + built, makespan_lower_bound, km_lower_bound: None };
    };
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if feasible(mid, false) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    // Where packing is only greedy (large needs), the distance cannot be proven shortest and the branch and bound
    // was not seen to improve on the quick plan: it is left out, and the answer says so.
    let exact = p.need.iter().map(|&n| n.max(0)).sum::<i64>() <= EXACT_UNITS;
    let allowance = if exact { budget.saturating_sub(nodes).max(budget / 4) } else { 0 };
    let s = Search::run(p, orders, &useful, times[hi], false, allowance);
    nodes += s.nodes + s.built;
    proven &= !s.exhausted && !s.unproven;
    let root = s.root_bound;
    let best = s.best.or_else(|| Search::run(p, orders, &useful, times[hi], true, budget).best);
    let km_lower_bound = best.as_ref().map(|b| if proven { b.km } else { root.min(b.km) });
    let makespan_lower_bound = times.get(bound.min(hi)).copied();
    Outcome { best, proven, nodes: nodes + built, makespan_lower_bound, km_lower_bound }
}

/// The same problem asking only what the carriers and depots could ever bring: the persons there are seats for,
/// the units the depots with a carrier hold.
pub fn reachable(p: &Problem) -> Problem {
    let mut r = p.clone();
    let seats: u64 = (0..p.carriers.len())
        .filter(|&c| p.can(c, Role::Troop, f64::INFINITY))
        .map(|c| p.carriers[c].seats as u64)
        .sum();
    r.persons = p.persons.min(seats.min(u32::MAX as u64) as u32);
    let freight: Vec<usize> = (0..p.carriers.len()).filter(|&c| p.can(c, Role::Freight, f64::INFINITY)).collect();
    for (need, held) in r.need.iter_mut().zip(held_by(p, &freight)) {
        *need = (*need).min(held);
    }
    r
}

/// Units of each item held by the depots the freight carriers stand at (each depot counted once).
fn held_by(p: &Problem, freight: &[usize]) -> Vec<i64> {
    let mut depots: Vec<usize> = freight.iter().filter_map(|&c| p.carriers[c].depot).collect();
    depots.sort_unstable();
    depots.dedup();
    let mut held = vec![0i64; p.need.len()];
    for d in depots {
        for (h, &s) in held.iter_mut().zip(&p.stock[d]) {
            *h += s;
        }
    }
    held
}

/// Necessary conditions at a makespan: enough seats, payload, volume and stock among the carriers fast enough
/// (as if every carrier could fly both missions at once).
fn relaxed(p: &Problem, useful: &Useful, limit: f64) -> bool {
    let seats: u64 = (0..p.carriers.len())
        .filter(|&c| useful.can(p, c, Role::Troop, limit))
        .map(|c| p.carriers[c].seats as u64)
        .sum();
    let fast: Vec<usize> = (0..p.carriers.len()).filter(|&c| useful.can(p, c, Role::Freight, limit)).collect();
    let kg: f64 = fast.iter().map(|&c| p.carriers[c].payload_kg).sum();
    let m3: f64 = fast.iter().map(|&c| p.carriers[c].cargo_m3).sum();
    seats >= p.persons as u64
        && kg + EPS >= p.mass(&p.need)
        && m3 + EPS >= p.volume(&p.need)
        && held_by(p, &fast).iter().zip(&p.need).all(|(&h, &n)| h >= n)
        && flows_cover(p, &fast)
}

/// Branch and bound over the roles of the carriers that can fly within a makespan.
struct Search<'a> {
    p: &'a Problem,
    limit: f64,
    /// Stop at the first plan (feasibility) rather than the shortest.
    any: bool,
    budget: u64,
    nodes: u64,
    /// Work spent building a plan without search (not counted against the budget).
    built: u64,
    /// The distance bound at the root: no plan within the makespan covers fewer kilometres.
    root_bound: f64,
    exhausted: bool,
    /// A packing was given up without proof that none exists.
    unproven: bool,
    /// Carriers with something to do, in branching order.
    order: Vec<usize>,
    /// Seats, payload and volume of the carriers from each depth of `order` on (as if each could fly both roles).
    rest: Vec<(u64, f64, f64)>,
    /// The carrier before it in `order` when they are alike.
    twin_before: Vec<Option<usize>>,
    /// Position of each carrier in `order` (`usize::MAX` when not in it): decided when below the depth.
    rank: Vec<usize>,
    troop_ok: Vec<bool>,
    freight_ok: Vec<bool>,
    /// Troop carriers by kilometres per seat; freight carriers by kilometres per kg and per m³.
    by_seat: Vec<usize>,
    by_kg: Vec<usize>,
    by_m3: Vec<usize>,
    roles: Vec<Role>,
    /// Freight carriers chosen at each depot.
    at_depot: Vec<u32>,
    /// Units of each item held by the depots with a chosen freight carrier.
    covered: Vec<i64>,
    best: Option<Assignment>,
}

impl<'a> Search<'a> {
    fn run(p: &'a Problem, orders: &Orders, useful: &Useful, limit: f64, any: bool, budget: u64) -> Search<'a> {
        let n = p.carriers.len();
        let troop_ok: Vec<bool> = (0..n).map(|c| useful.can(p, c, Role::Troop, limit)).collect();
        let freight_ok: Vec<bool> = (0..n).map(|c| useful.can(p, c, Role::Freight, limit)).collect();
        let order: Vec<usize> = orders.all.iter().copied().filter(|&c| troop_ok[c] || freight_ok[c]).collect();
        let mut rank = vec![usize::MAX; n];
        let mut twin_before = vec![None; n];
        for (i, &c) in order.iter().enumerate() {
            rank[c] = i;
            if i > 0 && orders.group[order[i - 1]] == orders.group[c] {
                twin_before[c] = Some(order[i - 1]);
            }
        }
        let mut rest = vec![(0u64, 0.0f64, 0.0f64); order.len() + 1];
        for (i, &c) in order.iter().enumerate().rev() {
            let k = &p.carriers[c];
            let (s, kg, m3) = rest[i + 1];
            rest[i] = if freight_ok[c] { (s, kg + k.payload_kg, m3 + k.cargo_m3) } else { (s, kg, m3) };
            if troop_ok[c] {
                rest[i].0 += k.seats as u64;
            }
        }
        let keep = |list: &[usize], ok: &[bool]| list.iter().copied().filter(|&c| ok[c]).collect::<Vec<usize>>();
        let by_seat = keep(&orders.by_seat, &troop_ok);
        let by_kg = keep(&orders.by_kg, &freight_ok);
        let by_m3 = keep(&orders.by_m3, &freight_ok);
        let mut s = Search {
            p,
            limit,
            any,
            budget,
            nodes: 0,
            built: 0,
            root_bound: 0.0,
            exhausted: false,
            unproven: false,
            order,
            rest,
            twin_before,
            rank,
            troop_ok,
            freight_ok,
            by_seat,
            by_kg,
            by_m3,
            roles: vec![Role::Idle; n],
            at_depot: vec![0; p.stock.len()],
            covered: vec![0; p.need.len()],
            best: None,
        };
        let (seats, kg, m3) = (p.persons as i64, p.mass(&p.need), p.volume(&p.need));
        s.root_bound = s.lower_bound(0, seats, kg, m3).unwrap_or(f64::INFINITY);
        // A quick plan first: it answers feasibility at once where it succeeds, and bounds the distance.
        s.construct();
        s.dive(0, seats, kg, m3, 0.0);
        s
    }

    /// Builds one plan without search: the persons in the carriers with the fewest kilometres per seat (those that
    /// cannot carry kit first), the kit packed greedily into the nearest other carriers, more of them until it fits.
    fn construct(&mut self) -> bool {
        let p = self.p;
        let mut troop = self.by_seat.clone();
        troop.sort_by_key(|&c| self.freight_ok[c]); // stable: kilometres per seat within each group
        let mut seats_left = p.persons as i64;
        let mut taken = vec![false; p.carriers.len()];
        for c in troop {
            if seats_left <= 0 {
                break;
            }
            taken[c] = true;
            seats_left -= p.carriers[c].seats as i64;
        }
        if seats_left > 0 {
            return false;
        }
        let km = |c: usize| p.carriers[c].freight.map_or(f64::INFINITY, |m| m.km);
        let mut freight: Vec<usize> = self.order.iter().copied().filter(|&c| self.freight_ok[c] && !taken[c]).collect();
        freight.sort_by(|&a, &b| km(a).total_cmp(&km(b)).then(a.cmp(&b)));
        let (kg, m3) = (p.mass(&p.need), p.volume(&p.need));
        let mut loads = vec![Vec::new(); p.carriers.len()];
        if p.has_freight() {
            // The nearest carriers until they hold the need with a margin and their depots hold it all; on failure,
            // a wider margin.
            let (mut n, mut room_kg, mut room_m3, mut margin) = (0, 0.0, 0.0, 1.25);
            let mut covered = vec![0i64; p.need.len()];
            let mut seen = vec![false; p.stock.len()];
            let mut short = p.need.iter().filter(|&&x| x > 0).count();
            loop {
                while n < freight.len() && (room_kg < margin * kg || room_m3 < margin * m3 || short > 0) {
                    let k = &p.carriers[freight[n]];
                    room_kg += k.payload_kg;
                    room_m3 += k.cargo_m3;
                    let d = k.depot.expect("freight carriers stand at a depot");
                    if !std::mem::replace(&mut seen[d], true) {
                        for ((c, &s), &x) in covered.iter_mut().zip(&p.stock[d]).zip(&p.need) {
                            short -= (x > 0 && *c < x && *c + s >= x) as usize;
                            *c += s;
                        }
                    }
                    n += 1;
                }
                let mut packer = Packer::new(p, &freight[..n], u64::MAX);
                let packed = packer.greedy();
                self.built += packer.nodes;
                if packed {
                    loads = packer.loads();
                    for &c in &freight[..n] {
                        taken[c] = true;
                    }
                    break;
                }
                if n == freight.len() {
                    return false;
                }
                margin *= 2.0;
            }
        }
        for c in 0..p.carriers.len() {
            self.roles[c] = match (taken[c], loads[c].is_empty()) {
                (false, _) => Role::Idle,
                (true, true) => Role::Troop,
                (true, false) => Role::Freight,
            };
        }
        self.record(loads);
        self.roles.fill(Role::Idle);
        true
    }

    fn dive(&mut self, depth: usize, seats_left: i64, kg_left: f64, m3_left: f64, km: f64) {
        if self.exhausted || (self.any && self.best.is_some()) {
            return;
        }
        self.nodes += 1;
        if self.nodes > self.budget {
            self.exhausted = true;
            return;
        }
        if seats_left <= 0 && kg_left <= EPS && m3_left <= EPS && self.stock_covers() {
            let freight: Vec<usize> = (0..self.roles.len()).filter(|&c| self.roles[c] == Role::Freight).collect();
            if flows_cover(self.p, &freight) {
                let mut packer = Packer::new(self.p, &freight, self.budget.saturating_sub(self.nodes));
                let packed = packer.run();
                self.nodes += packer.nodes;
                match packed {
                    Packed::Yes => {
                        self.record(packer.loads());
                        return; // more carriers only add distance
                    }
                    Packed::No => {} // the totals fit but not whole units: more carriers may help
                    Packed::Unknown => self.unproven = true,
                }
            }
        }
        if depth == self.order.len() {
            return;
        }
        // Seeking any plan, the carriers left need only be able to cover the rest (sums kept per depth); seeking
        // the shortest, the fractional covers bound the distance still to add.
        let (seats, kg, m3) = self.rest[depth];
        if seats < seats_left.max(0) as u64 || kg + EPS < kg_left || m3 + EPS < m3_left {
            return;
        }
        if !self.any {
            let Some(bound) = self.lower_bound(depth, seats_left, kg_left, m3_left) else { return };
            if self.best.as_ref().is_some_and(|b| km + bound >= b.km - EPS) {
                return;
            }
        }
        let c = self.order[depth];
        let carrier = &self.p.carriers[c];
        let troop = (self.troop_ok[c] && seats_left > 0).then_some(Role::Troop);
        let freight = self.freight_ok[c].then_some(Role::Freight);
        // A carrier with many seats (a bus) tries persons first, others goods first; both are explored.
        let roles = if carrier.seats >= 8 { [troop, freight] } else { [freight, troop] };
        let highest = self.twin_before[c].map_or(Role::Troop, |t| self.roles[t]);
        for role in roles.into_iter().flatten().filter(|r| level(*r) <= level(highest)) {
            let m = self.p.mission(c, role).expect("role checked");
            self.roles[c] = role;
            match role {
                Role::Troop => self.dive(depth + 1, seats_left - carrier.seats as i64, kg_left, m3_left, km + m.km),
                Role::Freight => {
                    let d = carrier.depot.expect("freight carriers stand at a depot");
                    self.enter_depot(d, 1);
                    self.dive(
                        depth + 1,
                        seats_left,
                        kg_left - carrier.payload_kg,
                        m3_left - carrier.cargo_m3,
                        km + m.km,
                    );
                    self.enter_depot(d, -1);
                }
                Role::Idle => unreachable!(),
            }
            self.roles[c] = Role::Idle;
            if self.exhausted || (self.any && self.best.is_some()) {
                return;
            }
        }
        self.dive(depth + 1, seats_left, kg_left, m3_left, km);
    }

    /// The depots of the chosen freight carriers hold enough of every item.
    fn stock_covers(&self) -> bool {
        self.p.need.iter().zip(&self.covered).all(|(&n, &c)| c >= n)
    }

    /// One freight carrier more (`+1`) or less (`-1`) at a depot; its stock counts while one is there.
    fn enter_depot(&mut self, d: usize, step: i32) {
        let before = self.at_depot[d];
        self.at_depot[d] = (before as i32 + step) as u32;
        let sign = match (before, self.at_depot[d]) {
            (0, 1) => 1,
            (1, 0) => -1,
            _ => return,
        };
        for (c, &s) in self.covered.iter_mut().zip(&self.p.stock[d]) {
            *c += sign * s;
        }
    }

    /// A lower bound on the distance still to add, from the carriers not yet decided (`None`: nothing can work).
    /// Fractional covers of the seats, then of the mass and the volume: a carrier flies one role, so the seat
    /// cover and the larger of the goods covers add up.
    fn lower_bound(&self, depth: usize, seats_left: i64, kg_left: f64, m3_left: f64) -> Option<f64> {
        let open = |c: &usize| self.rank[*c] >= depth;
        let cover = |list: &[usize], mut left: f64, size: &dyn Fn(usize) -> f64, km: &dyn Fn(usize) -> f64| {
            let mut cost = 0.0;
            for &c in list.iter().filter(|c| open(c)) {
                if left <= EPS {
                    break;
                }
                let s = size(c);
                let take = s.min(left);
                cost += km(c) * take / s;
                left -= take;
            }
            (left <= EPS).then_some(cost)
        };
        let carriers = &self.p.carriers;
        let troop_km = |c: usize| carriers[c].troop.expect("troop carrier").km;
        let freight_km = |c: usize| carriers[c].freight.expect("freight carrier").km;
        let seats = cover(&self.by_seat, seats_left.max(0) as f64, &|c| carriers[c].seats as f64, &troop_km)?;
        let kg = cover(&self.by_kg, kg_left.max(0.0), &|c| carriers[c].payload_kg, &freight_km)?;
        let m3 = cover(&self.by_m3, m3_left.max(0.0), &|c| carriers[c].cargo_m3, &freight_km)?;
        Some(seats + kg.max(m3))
    }

    fn record(&mut self, loads: Vec<Vec<i64>>) {
        let p = self.p;
        let n = p.carriers.len();
        // Persons board the troop carriers in order of arrival.
        let mut troop: Vec<usize> = (0..n).filter(|&c| self.roles[c] == Role::Troop).collect();
        troop.sort_by(|&a, &b| p.carriers[a].troop.unwrap().minutes.total_cmp(&p.carriers[b].troop.unwrap().minutes));
        let mut persons = vec![0u32; n];
        let mut left = p.persons;
        let mut roles = self.roles.clone();
        for c in troop {
            let k = left.min(p.carriers[c].seats);
            persons[c] = k;
            left -= k;
        }
        // A carrier left with nothing to carry stays home.
        for c in 0..n {
            let empty = match roles[c] {
                Role::Troop => persons[c] == 0,
                Role::Freight => loads[c].iter().all(|&x| x == 0),
                Role::Idle => false,
            };
            if empty {
                roles[c] = Role::Idle;
            }
        }
        let missions = || (0..n).filter_map(|c| p.mission(c, roles[c]));
        let makespan_min = missions().map(|m| m.minutes).fold(0.0, f64::max);
        let km: f64 = missions().map(|m| m.km).sum();
        debug_assert!(makespan_min <= self.limit + EPS);
        if self.best.as_ref().is_some_and(|b| b.km <= km + EPS) {
            return;
        }
        self.best = Some(Assignment { roles, persons, loads, makespan_min, km });
    }
}

/// Up to this many units to bring, packing is searched exhaustively; above, only the greedy fill is tried.
const EXACT_UNITS: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Packed {
    Yes,
    No,
    /// Not found, without proof that no packing exists.
    Unknown,
}

/// Whole units into the freight carriers: each carrier takes first what only its depot can still give, then the
/// heaviest needs, full loads first. Exhaustive (depth-first, one unit less at a time) on small needs; a single
/// greedy fill on large ones.
struct Packer<'a> {
    p: &'a Problem,
    carriers: Vec<usize>,
    /// Items in packing order: heaviest need first.
    items: Vec<usize>,
    need: Vec<i64>,
    stock: Vec<Vec<i64>>,
    /// Room and load of each carrier, by position in `carriers`.
    kg_left: Vec<f64>,
    m3_left: Vec<f64>,
    loads: Vec<Vec<i64>>,
    /// Item order of each carrier, set when its turn comes.
    order: Vec<Vec<usize>>,
    /// Units of each item at the depots served after each carrier's own (untouched while that carrier loads,
    /// since depots are served in turn).
    later: Vec<Vec<i64>>,
    exact: bool,
    budget: u64,
    nodes: u64,
}

impl<'a> Packer<'a> {
    fn new(p: &'a Problem, carriers: &[usize], budget: u64) -> Packer<'a> {
        let mut items: Vec<usize> = (0..p.need.len()).filter(|&i| p.need[i] > 0).collect();
        items.sort_by(|&a, &b| {
            let w = |i: usize| p.need[i] as f64 * p.units[i].mass_kg;
            w(b).total_cmp(&w(a)).then(a.cmp(&b))
        });
        // Depots nearest first (their carriers side by side, largest first): a greedy fill then leaves the far
        // carriers empty, and they stay home.
        let mut carriers = carriers.to_vec();
        let key = |c: usize| {
            let k = &p.carriers[c];
            (k.freight.map_or(f64::INFINITY, |m| m.km), k.depot, -k.payload_kg, c)
        };
        carriers.sort_by(|&a, &b| {
            let (x, y) = (key(a), key(b));
            x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.total_cmp(&y.2)).then(x.3.cmp(&y.3))
        });
        let depot = |k: usize| p.carriers[carriers[k]].depot.expect("freight carriers stand at a depot");
        let n = carriers.len();
        let mut later = vec![vec![0i64; p.need.len()]; n + 1];
        for k in (0..n).rev() {
            later[k] = later[k + 1].clone();
            if k + 1 < n && depot(k + 1) != depot(k) {
                for (l, &s) in later[k].iter_mut().zip(&p.stock[depot(k + 1)]) {
                    *l += s;
                }
            }
        }
        Packer {
            p,
            items,
            need: p.need.iter().map(|&n| n.max(0)).collect(),
            // Only the rows of the depots involved are copied.
            stock: {
                let mut rows = vec![Vec::new(); p.stock.len()];
                for &c in &carriers {
                    let d = p.carriers[c].depot.expect("freight carriers stand at a depot");
                    if rows[d].is_empty() {
                        rows[d] = p.stock[d].clone();
                    }
                }
                rows
            },
            kg_left: carriers.iter().map(|&c| p.carriers[c].payload_kg).collect(),
            m3_left: carriers.iter().map(|&c| p.carriers[c].cargo_m3).collect(),
            loads: carriers.iter().map(|_| vec![0; p.need.len()]).collect(),
            order: vec![Vec::new(); carriers.len()],
            later,
            exact: p.need.iter().map(|&n| n.max(0)).sum::<i64>() <= EXACT_UNITS,
            carriers,
            budget,
            nodes: 0,
        }
    }

    /// Loads by carrier index in the problem (empty for the others).
    fn loads(&self) -> Vec<Vec<i64>> {
        let mut all = vec![Vec::new(); self.p.carriers.len()];
        for (k, &c) in self.carriers.iter().enumerate() {
            all[c] = self.loads[k].clone();
        }
        all
    }

    fn run(&mut self) -> Packed {
        if !self.exact {
            return if self.greedy() { Packed::Yes } else { Packed::Unknown };
        }
        match self.place(0, 0) {
            Some(true) => Packed::Yes,
            Some(false) => Packed::No,
            None => Packed::Unknown,
        }
    }

    /// Items for the carrier at position `k`: first what the depots of the carriers after it cannot cover.
    fn item_order(&self, k: usize) -> Vec<usize> {
        let mut items = self.items.clone();
        items.sort_by_key(|&i| std::cmp::Reverse((self.need[i] - self.later[k][i]).max(0)));
        items
    }

    fn place(&mut self, k: usize, j: usize) -> Option<bool> {
        self.nodes += 1;
        if self.nodes > self.budget {
            return None;
        }
        if self.need.iter().all(|&n| n <= 0) {
            return Some(true);
        }
        if k == self.carriers.len() {
            return Some(false);
        }
        if j == 0 {
            self.order[k] = self.item_order(k);
        }
        if j == self.items.len() {
            if !self.rest_can_cover(k + 1) {
                return Some(false);
            }
            return self.place(k + 1, 0);
        }
        let i = self.order[k][j];
        let most = self.most(k, i);
        for x in (0..=most).rev() {
            self.take(k, i, x);
            let r = self.place(k, j + 1);
            if r != Some(false) {
                return r;
            }
            self.take(k, i, -x);
        }
        Some(false)
    }

    /// The most units of item `i` the carrier at position `k` can still take.
    fn most(&self, k: usize, i: usize) -> i64 {
        let d = self.p.carriers[self.carriers[k]].depot.expect("freight carriers stand at a depot");
        let u = self.p.units[i];
        let room = |left: f64, per: f64| if per > 0.0 { ((left + EPS) / per).floor() as i64 } else { i64::MAX };
        self.need[i]
            .min(self.stock[d][i])
            .min(room(self.kg_left[k], u.mass_kg))
            .min(room(self.m3_left[k], u.volume_m3))
            .max(0)
    }

    /// Loads (or, negative, unloads) `x` units of item `i` into the carrier at position `k`.
    fn take(&mut self, k: usize, i: usize, x: i64) {
        let d = self.p.carriers[self.carriers[k]].depot.expect("freight carriers stand at a depot");
        let u = self.p.units[i];
        self.need[i] -= x;
        self.stock[d][i] -= x;
        self.kg_left[k] -= x as f64 * u.mass_kg;
        self.m3_left[k] -= x as f64 * u.volume_m3;
        self.loads[k][i] += x;
    }

    /// One pass, no backtracking: carriers by depot, each taking first what later depots cannot give, then the
    /// heaviest needs, as much as fits.
    fn greedy(&mut self) -> bool {
        for k in 0..self.carriers.len() {
            self.nodes += self.items.len() as u64; // work, counted against the budget like nodes
            for i in self.item_order(k) {
                let x = self.most(k, i);
                if x > 0 {
                    self.take(k, i, x);
                }
            }
            if self.need.iter().all(|&x| x <= 0) {
                return true;
            }
        }
        false
    }

    /// Whether the carriers from position `k` on can still hold and reach what is left.
    fn rest_can_cover(&self, k: usize) -> bool {
        let k = k.min(self.carriers.len());
        let rest = &self.carriers[k..];
        let kg: f64 = self.kg_left[k..].iter().sum();
        let m3: f64 = self.m3_left[k..].iter().sum();
        if kg + EPS < self.p.mass(&self.need) || m3 + EPS < self.p.volume(&self.need) {
            return false;
        }
        let mut depots: Vec<usize> = rest.iter().filter_map(|&c| self.p.carriers[c].depot).collect();
        depots.dedup();
        (0..self.need.len())
            .all(|i| self.need[i] <= 0 || depots.iter().map(|&d| self.stock[d][i]).sum::<i64>() >= self.need[i])
    }
}

/// Above this many depots, the flow condition is not checked (it only prunes).
const FLOW_DEPOTS: usize = 48;

/// Necessary for a packing: the mass, and apart from it the volume, of the need can flow from the items through
/// the depots that hold them into the freight carriers standing there.
fn flows_cover(p: &Problem, freight: &[usize]) -> bool {
    let items: Vec<usize> = (0..p.need.len()).filter(|&i| p.need[i] > 0).collect();
    let mut depots: Vec<usize> = freight.iter().filter_map(|&c| p.carriers[c].depot).collect();
    depots.sort_unstable();
    depots.dedup();
    if depots.len() > FLOW_DEPOTS {
        return true; // only a pruning condition: skipped where the dense network would cost more than it saves
    }
    let dim = |size: &dyn Fn(usize) -> f64, room: &dyn Fn(usize) -> f64| {
        // Nodes: source 0, items 1..=I, depots, sink.
        let (ni, nd) = (items.len(), depots.len());
        let n = ni + nd + 2;
        let sink = n - 1;
        let mut cap = vec![vec![0.0f64; n]; n];
        let mut total = 0.0;
        for (a, &i) in items.iter().enumerate() {
            cap[0][1 + a] = p.need[i] as f64 * size(i);
            total += cap[0][1 + a];
            for (b, &d) in depots.iter().enumerate() {
                cap[1 + a][1 + ni + b] = p.stock[d][i].max(0) as f64 * size(i);
            }
        }
        for (b, &d) in depots.iter().enumerate() {
            cap[1 + ni + b][sink] = freight.iter().filter(|&&c| p.carriers[c].depot == Some(d)).map(|&c| room(c)).sum();
        }
        max_flow(&mut cap, 0, sink) + 1e-6 >= total
    };
    dim(&|i| p.units[i].mass_kg, &|c| p.carriers[c].payload_kg)
        && dim(&|i| p.units[i].volume_m3, &|c| p.carriers[c].cargo_m3)
}

/// Edmonds-Karp on a dense capacity matrix (consumed as the residual graph).
fn max_flow(cap: &mut [Vec<f64>], s: usize, t: usize) -> f64 {
    let n = cap.len();
    let mut flow = 0.0;
    loop {
        let mut prev = vec![usize::MAX; n];
        prev[s] = s;
        let mut queue = std::collections::VecDeque::from([s]);
        while let Some(u) = queue.pop_front() {
            for v in 0..n {
                if prev[v] == usize::MAX && cap[u][v] > 1e-9 {
                    prev[v] = u;
                    queue.push_back(v);
                }
            }
        }
        if prev[t] == usize::MAX {
            return flow;
        }
        let mut push = f64::INFINITY;
        let mut v = t;
        while v != s {
            push = push.min(cap[prev[v]][v]);
            v = prev[v];
        }
        let mut v = t;
        while v != s {
            cap[prev[v]][v] -= push;
            cap[v][prev[v]] += push;
            v = prev[v];
        }
        flow += push;
    }
}

/// Order of roles for twins: a carrier takes a role no higher than its twin before it.
fn level(r: Role) -> u8 {
    match r {
        Role::Idle => 0,
        Role::Freight => 1,
        Role::Troop => 2,
    }
}

/// A group number per carrier: equal for carriers with the same capacities, depot and missions.
fn twins(p: &Problem, carriers: &[usize]) -> Vec<usize> {
    let key = |c: usize| {
        let k = &p.carriers[c];
        let m = |m: Option<Mission>| m.map(|m| (m.minutes.to_bits(), m.km.to_bits()));
        (k.seats, k.payload_kg.to_bits(), k.cargo_m3.to_bits(), k.depot, m(k.troop), m(k.freight))
    };
    let mut sorted: Vec<_> = carriers.iter().map(|&c| (key(c), c)).collect();
    sorted.sort_unstable();
    let mut group = vec![usize::MAX; p.carriers.len()];
    for (i, (k, c)) in sorted.iter().enumerate() {
        group[*c] = if i > 0 && sorted[i - 1].0 == *k { group[sorted[i - 1].1] } else { i };
    }
    group
}

/// Orders of the carriers that do not depend on the makespan, sorted once per problem.
pub struct Orders {
    /// Branching order: cheapest mission first (the first dive is a greedy plan), twins side by side.
    all: Vec<usize>,
    /// Carriers that are alike (same capacities, depot and missions) share a group: each takes a role no higher
    /// than its twin before it (troop, freight, idle), so the search never tries two orderings of one plan.
    group: Vec<usize>,
    /// Troop carriers by kilometres per seat; freight carriers by kilometres per kg and per m³.
    by_seat: Vec<usize>,
    by_kg: Vec<usize>,
    by_m3: Vec<usize>,
}

impl Orders {
    pub fn of(p: &Problem) -> Orders {
        let n = p.carriers.len();
        let all: Vec<usize> = (0..n).collect();
        let group = twins(p, &all);
        let troop_km = |c: usize| p.carriers[c].troop.map_or(f64::INFINITY, |m| m.km);
        let freight_km = |c: usize| p.carriers[c].freight.map_or(f64::INFINITY, |m| m.km);
        // Keys computed once per carrier, not once per comparison.
        let sorted = |keep: &dyn Fn(usize) -> bool, key: &dyn Fn(usize) -> f64| {
            let mut v: Vec<(f64, usize, usize)> = (0..n).filter(|&c| keep(c)).map(|c| (key(c), group[c], c)).collect();
            v.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
            v.into_iter().map(|(_, _, c)| c).collect()
        };
        let carriers = &p.carriers;
        Orders {
            all: sorted(&|c| carriers[c].troop.is_some() || carriers[c].freight.is_some(), &|c| {
                troop_km(c).min(freight_km(c))
            }),
            by_seat: sorted(&|c| carriers[c].troop.is_some() && carriers[c].seats > 0, &|c| {
                troop_km(c) / carriers[c].seats as f64
            }),
            by_kg: sorted(&|c| carriers[c].freight.is_some() && carriers[c].payload_kg > 0.0, &|c| {
                freight_km(c) / carriers[c].payload_kg
            }),
            by_m3: sorted(&|c| carriers[c].freight.is_some() && carriers[c].cargo_m3 > 0.0, &|c| {
                freight_km(c) / carriers[c].cargo_m3
            }),
            group,
        }
    }
}

/// Which carriers have something to do in each role, whatever the makespan: computed once per problem, since it
/// looks at every depot's stock.
struct Useful {
    troop: Vec<bool>,
    freight: Vec<bool>,
}

impl Useful {
    fn of(p: &Problem) -> Useful {
        let n = p.carriers.len();
        Useful {
            troop: (0..n).map(|c| p.can(c, Role::Troop, f64::INFINITY)).collect(),
            freight: (0..n).map(|c| p.can(c, Role::Freight, f64::INFINITY)).collect(),
        }
    }

    /// [`Problem::can`], from the cache.
    fn can(&self, p: &Problem, c: usize, role: Role, limit: f64) -> bool {
        let useful = match role {
            Role::Idle => return true,
            Role::Troop => self.troop[c],
            Role::Freight => self.freight[c],
        };
        useful && p.mission(c, role).is_some_and(|m| m.minutes <= limit + EPS)
    }
}
