//! Placing a contribution's helpers and volumes in the pod lists: init containers, helpers
//! (native or classic), native-only sidecars, then volumes, each at its position.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Container, Volume};
use serde_json::{Map, Value};

use super::plan::{Placement, Plan};
use super::position::InitPlacement;
use crate::contribution::Contribution;
use crate::fragment::Fragment;
use crate::podspec::{ItemRef, ListRef, PodList, Position};

/// Init containers, helpers (native or classic: moved out of the other list after a mode
/// switch), native-only sidecars, then volumes. New init containers and native sidecars go
/// where `init` says; classic helpers and volumes at the end.
pub(super) fn place_helpers(
    plan: &mut Plan,
    spec: &Map<String, Value>,
    contribution: Arc<Contribution>,
    native: bool,
    init: &InitPlacement,
) {
    let (helper_list, other_list) = if native {
        (PodList::InitContainers, PodList::Containers)
    } else {
        (PodList::Containers, PodList::InitContainers)
    };
    let parts = Parts::of(contribution);
    let mut items: Vec<(PodList, String, Value, Option<PodList>)> = Vec::new();
    for (name, value) in parts.init_containers {
        items.push((PodList::InitContainers, name, value, None));
    }
    for (name, value) in parts.containers {
        let value = with_restart(value, native);
        items.push((helper_list, name, value, Some(other_list)));
    }
    for (name, value) in parts.native_sidecars {
        let value = with_restart(value, true);
        let from = Some(PodList::Containers);
        items.push((PodList::InitContainers, name, value, from));
    }
    for (name, value) in parts.volumes {
        items.push((PodList::Volumes, name, value, None));
    }
    for (list, name, value, moves_from) in items {
        let mut take_out = |item: ItemRef| {
            if item.find(spec).is_some() && !plan.removals.contains(&item) {
                plan.removals.push(item);
            }
        };
        if let Some(other) = moves_from {
            take_out(ItemRef::new(ListRef::Pod(other), &name));
        }
        let position = match list {
            PodList::InitContainers => {
                if init.moves {
                    // A new position: the helper leaves its old place.
                    take_out(ItemRef::new(ListRef::Pod(list), &name));
                }
                init.first.clone()
            }
            _ => Position::Append,
        };
        plan.placements.push(Placement {
            item: ItemRef::new(ListRef::Pod(list), &name),
            value,
            position,
            replaces: false,
            via: None,
        });
    }
}

/// The helpers and volumes of a contribution as (name, JSON), in its order.
struct Parts {
    init_containers: Vec<(String, Value)>,
    containers: Vec<(String, Value)>,
    native_sidecars: Vec<(String, Value)>,
    volumes: Vec<(String, Value)>,
}

impl Parts {
    /// Moved out of a contribution nothing else holds (a plugin's, rendered for this object);
    /// copied from a shared one (a built-in's, kept for the documents that follow).
    fn of(contribution: Arc<Contribution>) -> Parts {
        fn moved<T>(list: Vec<Fragment<T>>, name: fn(&T) -> &String) -> Vec<(String, Value)> {
            list.into_iter()
                .map(|f| (name(&f).clone(), f.into_json()))
                .collect()
        }
        fn copied<T>(list: &[Fragment<T>], name: fn(&T) -> &String) -> Vec<(String, Value)> {
            list.iter()
                .map(|f| (name(f).clone(), f.json().clone()))
                .collect()
        }
        let container: fn(&Container) -> &String = |c| &c.name;
        let volume: fn(&Volume) -> &String = |v| &v.name;
        match Arc::try_unwrap(contribution) {
            Ok(c) => Parts {
                init_containers: moved(c.init_containers, container),
                containers: moved(c.containers, container),
                native_sidecars: moved(c.native_sidecars, container),
                volumes: moved(c.volumes, volume),
            },
            Err(shared) => Parts {
                init_containers: copied(&shared.init_containers, container),
                containers: copied(&shared.containers, container),
                native_sidecars: copied(&shared.native_sidecars, container),
                volumes: copied(&shared.volumes, volume),
            },
        }
    }
}

fn with_restart(mut v: Value, restart_always: bool) -> Value {
    if restart_always && let Some(map) = v.as_object_mut() {
        map.insert("restartPolicy".into(), Value::String("Always".into()));
    }
    v
}
