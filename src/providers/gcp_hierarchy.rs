//! The projects under a GCP organisation or folder (`--gcp-organization`, `--gcp-folder`),
//! found with Resource Manager v3 search.
//!
//! Two searches, each every page: every folder and every project the caller may see
//! (`resourcemanager.folders.get` / `projects.get`). The subtree is then worked out from the
//! `parent` links, at any depth, instead of one listing per folder: a deep hierarchy costs the
//! same two listings as a flat one. Search is eventually consistent (a project created
//! moments ago may be missing), which the README says.

use super::gcp::{backoff, classify, ListRetryPolicy};
use super::{one_line, paginate, ListingError, Tuning};
use crate::model::{CoverageRow, CoverageStatus, Provider, Scope};
use google_cloud_gax::retry_policy::RetryPolicyExt;
use google_cloud_resourcemanager_v3::client::{Folders, Projects};
use google_cloud_resourcemanager_v3::model::project;
use std::collections::{BTreeMap, HashMap};

use super::gcp::GcpHierarchy;

/// The public Resource Manager endpoint.
pub const PUBLIC_RESOURCEMANAGER_ENDPOINT: &str = "https://cloudresourcemanager.googleapis.com";

/// What the searches found under the selected organisation or folder.
pub struct Hierarchy {
    /// Active projects under it: the ones to scan.
    pub active: Vec<String>,
    /// Projects under it that are being deleted (`disabled` rows).
    pub inactive: Vec<CoverageRow>,
    /// The organisation at the top (`organizations/N`), when the caller can see that far.
    pub organization: Option<String>,
    /// Every visible project whose ancestry reaches an organisation, any state, with that
    /// organisation: what "outside the organisation" is measured against (a collector in
    /// another organisation's project is outside). Empty when the root's own organisation is
    /// not visible.
    pub group_of: BTreeMap<String, String>,
    /// `group_of` holds the whole organisation: the root is the organisation itself and every
    /// visible project's ancestry reaches an organisation. Under a folder, or with a folder
    /// out of sight, a project missing from it may still be inside.
    pub complete: bool,
}

/// One project as the search returned it.
struct FoundProject {
    id: String,
    parent: String,
    active: bool,
}

/// Finds the projects under `root`, every page of both searches.
pub async fn discover(
    endpoint: Option<&str>,
    credentials: google_cloud_auth::credentials::Credentials,
    tuning: &Tuning,
    root: &GcpHierarchy,
) -> Result<Hierarchy, ListingError> {
    let endpoint = endpoint
        .unwrap_or(PUBLIC_RESOURCEMANAGER_ENDPOINT)
        .trim_end_matches('/');
    let client_error = |e: google_cloud_gax::client_builder::Error| {
        ListingError::failed(format!("ClientError: {}", one_line(&e.to_string())))
    };
    let retry = || ListRetryPolicy.with_attempt_limit(tuning.max_attempts.max(1));
    let folders_api = Folders::builder()
        .with_endpoint(endpoint)
        .with_credentials(credentials.clone())
        .with_retry_policy(retry())
        .with_backoff_policy(backoff(tuning)?)
        .with_attempt_timeout(tuning.timeout)
        .build()
        .await
        .map_err(client_error)?;
    let projects_api = Projects::builder()
        .with_endpoint(endpoint)
        .with_credentials(credentials)
        .with_retry_policy(retry())
        .with_backoff_policy(backoff(tuning)?)
        .with_attempt_timeout(tuning.timeout)
        .build()
        .await
        .map_err(client_error)?;

    const FOLDERS: &str = "folders.search";
    const PROJECTS: &str = "projects.search";
    let folders = paginate(FOLDERS, tuning.max_pages, |token| {
        let request = folders_api
            .search_folders()
            .set_page_size(500)
            .set_page_token(token.unwrap_or_default());
        async move {
            let page = request.send().await.map_err(|e| classify(FOLDERS, &e))?;
            // A folder being deleted still holds its projects: its state does not change
            // anyone's ancestry.
            let folders = page
                .folders
                .into_iter()
                .map(|f| (f.name, f.parent))
                .collect::<Vec<_>>();
            Ok((folders, Some(page.next_page_token)))
        }
    });
    let projects = paginate(PROJECTS, tuning.max_pages, |token| {
        let request = projects_api
            .search_projects()
            .set_page_size(500)
            .set_page_token(token.unwrap_or_default());
        async move {
            let page = request.send().await.map_err(|e| classify(PROJECTS, &e))?;
            let projects = page
                .projects
                .into_iter()
                .map(|p| FoundProject {
                    active: p.state == project::State::Active,
                    id: p.project_id,
                    parent: p.parent,
                })
                .collect::<Vec<_>>();
            Ok((projects, Some(page.next_page_token)))
        }
    });
    let (folders, projects) = tokio::join!(folders, projects);
    // A partial search could leave projects out unnoticed: the whole discovery fails instead.
    if let Some(error) = folders.error.or(projects.error) {
        return Err(error);
    }
    let parent_of: HashMap<String, String> = folders.items.into_iter().collect();
    Ok(subtree(root, &parent_of, projects.items))
}

/// The projects under `root`, and the membership of the organisation above it.
fn subtree(
    root: &GcpHierarchy,
    parent_of: &HashMap<String, String>,
    projects: Vec<FoundProject>,
) -> Hierarchy {
    let root_name = match root {
        GcpHierarchy::Organization(id) => format!("organizations/{id}"),
        GcpHierarchy::Folder(id) => format!("folders/{id}"),
    };
    // Ancestors, nearest first, stopping at a resource whose parent is not visible (or a
    // cycle, which the API never returns but a bad answer could).
    let ancestors = |start: &str| -> Vec<String> {
        let mut chain = vec![start.to_string()];
        while let Some(parent) = parent_of.get(chain.last().expect("never empty")) {
            if chain.contains(parent) || chain.len() > 64 {
                break;
            }
            chain.push(parent.clone());
        }
        chain
    };
    let organization = ancestors(&root_name)
        .into_iter()
        .find(|name| name.starts_with("organizations/"));

    let mut hierarchy = Hierarchy {
        active: Vec::new(),
        inactive: Vec::new(),
        group_of: BTreeMap::new(),
        organization: organization.clone(),
        complete: matches!(root, GcpHierarchy::Organization(_)),
    };
    for project in projects {
        let chain = ancestors(&project.parent);
        if chain.last().is_some_and(|top| top.starts_with("folders/")) {
            hierarchy.complete = false;
        }
        if let (Some(_), Some(top)) = (&organization, chain.last()) {
            if top.starts_with("organizations/") {
                hierarchy.group_of.insert(project.id.clone(), top.clone());
            }
        }
        if !chain.contains(&root_name) {
            continue;
        }
        if project.active {
            hierarchy.active.push(project.id);
        } else {
            hierarchy.inactive.push(CoverageRow {
                scope: Scope {
                    provider: Provider::Gcp,
                    account: Some(project.id),
                    region: None,
                },
                status: CoverageStatus::Disabled,
                detail: Some(
                    "DELETE_REQUESTED: the project is scheduled for deletion; nothing to scan"
                        .to_string(),
                ),
            });
        }
    }
    hierarchy.active.sort();
    hierarchy.active.dedup();
    hierarchy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(id: &str, parent: &str, active: bool) -> FoundProject {
        FoundProject {
            id: id.to_string(),
            parent: parent.to_string(),
            active,
        }
    }

    fn folders() -> HashMap<String, String> {
        [
            ("folders/1", "organizations/9"),
            ("folders/2", "folders/1"),
            ("folders/3", "organizations/9"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    fn projects() -> Vec<FoundProject> {
        vec![
            found("deep-project", "folders/2", true),
            found("side-project", "folders/3", true),
            found("top-project", "organizations/9", true),
            found("doomed-project", "folders/1", false),
            found("other-org-project", "organizations/7", true),
        ]
    }

    #[test]
    fn an_organisation_reaches_projects_at_any_depth() {
        let found = subtree(
            &GcpHierarchy::Organization("9".into()),
            &folders(),
            projects(),
        );
        assert_eq!(
            found.active,
            ["deep-project", "side-project", "top-project"]
        );
        assert_eq!(found.inactive.len(), 1);
        assert_eq!(
            found.inactive[0].scope.account.as_deref(),
            Some("doomed-project")
        );
        assert!(found.complete);
        assert_eq!(found.group_of["doomed-project"], "organizations/9");
        assert_eq!(found.group_of["other-org-project"], "organizations/7");
    }

    #[test]
    fn a_folder_out_of_sight_makes_the_membership_partial() {
        let mut projects = projects();
        projects.push(found("hidden-project", "folders/99", true));
        let found = subtree(
            &GcpHierarchy::Organization("9".into()),
            &folders(),
            projects,
        );
        assert!(!found.complete);
        assert!(!found.active.contains(&"hidden-project".to_string()));
    }

    #[test]
    fn a_folder_scans_its_subtree_but_knows_the_whole_organisation() {
        let found = subtree(&GcpHierarchy::Folder("1".into()), &folders(), projects());
        assert_eq!(found.active, ["deep-project"]);
        assert_eq!(found.organization.as_deref(), Some("organizations/9"));
        // A sibling folder's project is inside the organisation, not outside it; and since
        // a folder's grant may not show the whole organisation, absence decides nothing.
        assert!(!found.complete);
        assert_eq!(found.group_of["side-project"], "organizations/9");
    }

    #[test]
    fn a_folder_whose_organisation_is_not_visible_claims_no_membership() {
        let mut folders = folders();
        folders.remove("folders/1");
        let found = subtree(&GcpHierarchy::Folder("1".into()), &folders, projects());
        assert_eq!(found.active, ["deep-project"]);
        assert!(found.group_of.is_empty());
    }
}
