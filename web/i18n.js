// French first, English available. Times are shown in Europe/Paris whatever the browser's zone.
/** @type {Record<'fr' | 'en', Record<string, string>>} */
const dict = {
  fr: {
    situation: 'Situation', logistique: 'Logistique', stock: 'Stock', mur: 'Mur', supervision: 'Supervision',
    incidents: 'Incidents', courante: 'Main courante', import: 'Import', login: 'Connexion', logout: 'Déconnexion',
    user: 'Utilisateur', password: 'Mot de passe', signin: 'Se connecter', wrong: 'Identifiant ou mot de passe incorrect',
    layers: 'Couches', venues: 'Sites de compétition', depots: 'Dépôts', bases: 'Bases et camps', forces: 'Forces',
    vehicles: 'Véhicules', others: 'Autres sites', site: 'Site', item: 'Article', quantity: 'Quantité',
    serviceable: 'En état', on_hand: 'Détenu', reserved: 'Réservé', in_transit: 'En transit', available: 'Disponible',
    need: 'Besoin', shortfall: 'Manque', coverage: 'Couverture', freshness: 'Fraîcheur', lot: 'Lot', expires: 'Péremption',
    checks: 'Contrôles', open_incidents: 'Incidents ouverts', close: 'Fermer', sufficiency: 'Suffisance',
    locate: 'Localiser', reinforce: 'Renforcer', deploy: 'Déployer', plans: 'Plans', shift: "Bascule d'effort",
    whatif: 'Et si…', ask: 'Interroger', all_items: 'Tous les articles', days: 'Jours', on: 'Le', near: 'Près de',
    headcount: 'Effectif', from: 'Départ', to: 'Destination', by: 'Pour le', need_list: 'Besoin (ARTICLE=QTÉ,…)',
    commit: 'Engager', committed: 'Plan engagé', ship: 'Expédier', receive: 'Réceptionner', cancel: 'Annuler',
    status: 'Statut', destination: 'Destination', movements: 'Mouvements', purpose: 'Objet', eta: 'Arrivée',
    sources: 'Sources', unmet: 'Non couvert', dry_run: 'Aperçu', apply: 'Appliquer', reason: 'Motif',
    organisation: 'Organisation', national: 'National', state: 'État', output: 'Sortie', since: 'Depuis',
    acknowledge: 'Acquitter', maintenance: 'Maintenance', history: 'Historique', availability: 'Disponibilité',
    application: 'Application', suite: 'Suite', priority: 'Priorité', number: 'Numéro', description: 'Description',
    sla: 'SLA', create: 'Créer', timeline: 'Chronologie', crisis: 'Crise', entries: 'Entrées', add: 'Ajouter',
    handover: 'Passation', shift_now: 'Quart', text: 'Texte', kind: 'Type', files: 'Fichiers', choose_files: 'Choisir des fichiers…', validate: 'Valider',
    confirm: 'Confirmer l’import', report: 'Rapport', problems: 'Problèmes', nothing_written: 'rien n’a été écrit',
    imported: 'Import réalisé', latest_changes: 'Derniers changements', major_incidents: 'Incidents majeurs',
    live: 'en direct', offline: 'hors ligne', suites: 'Suites', sites: 'Sites', loading: 'Chargement…',
    no_data: 'Aucune donnée', persons: 'personnes', vehicle_km: 'véhicule-km', plan_ready: 'Plan prêt à engager',
    impact: 'Impact', urgency: 'Urgence', location: 'Lieu', assignment_group: 'Groupe', state_new: 'Nouveau',
    breached: 'dépassé', warning_sla: 'alerte', ok: 'OK', forbidden: 'Accès refusé', start: 'Début', end: 'Fin',
    scenario: 'Scénario (JSON)', effect: 'Effet', before: 'Avant', after: 'Après', expiring: 'Lots qui périment sous 30 jours',
    inc_1: 'Nouveau', inc_2: 'En cours', inc_3: 'En attente', inc_6: 'Résolu', inc_7: 'Clos', inc_8: 'Annulé',
    sla_response: 'SLA réponse', sla_resolution: 'SLA résolution', crisis_lead: 'Responsable de crise',
    work_note: 'Note de travail', alerts: 'Alertes', scope: 'Portée', breadcrumb: 'Fil d’Ariane',
    coverage_note: 'couverture du besoin (disponible / besoin), ou quantité disponible sans besoin', rows: 'Lignes',
    created: 'Créées', updated: 'Modifiées', unchanged: 'Inchangées', events: 'évènement(s)',
    eta_optimal: 'arrivée optimale', map_label: 'Carte de France',
    zoom_in: 'Zoom avant', zoom_out: 'Zoom arrière', basemap: 'Fond de carte', departements: 'Départements', legs: 'Trajets',
    sites_in_view: 'Sites visibles sur la carte', sites_in_view_n: '{n} site(s) visible(s) sur la carte',
    map_search: 'Chercher un site (identifiant, nom, commune)', map_search_ph: 'Site, identifiant ou commune', map_find: 'Chercher',
    map_no_match: 'Aucun site ne correspond à « {q} »', presets: 'Vues', preset_france: 'France', preset_idf: 'Île-de-France',
    preset_marseille: 'Marseille', skip_to_list: 'Aller à la liste des sites', cluster_title: '{n} sites — le pire : {state}', alert_of: 'Alerte',
    tl_state: 'État', tl_work_note: 'Note de travail', tl_comment: 'Commentaire', tl_alert: 'Alerte',
    rep_late: '{n} site(s) sur {of} n’ont pas compté leur stock depuis plus de {hours} h : leurs chiffres sont anciens.',
    rep_on_time: 'Les {of} sites ont compté leur stock dans les {hours} dernières heures.', rep_last_count: 'Dernier compte',
    rep_age: 'Il y a', rep_hours: '{h} h',
    rapports: 'Rapports', rep_at: 'Arrêté au (heure de Paris)', rep_since: 'Évolution depuis', rep_show: 'Afficher',
    rep_download: 'Télécharger :', ls_short: '{n} article(s) sur {of} en déficit sous 24 h : {items}.',
    ls_none_short: 'Aucun article en déficit sous 24 h ({of} article(s) suivis).',
    ls_late: '{n} ligne(s) reposent sur un comptage de plus de {hours} h.',
    ls_as_of: 'Arrêté au {at}, journal jusqu’à l’événement n° {seq}.', ls_need_24: 'Besoin 24 h', ls_days: 'Jours d’autonomie',
    ls_balance_24: 'Solde 24 h', ls_balance_72: 'Solde 72 h', ls_late_sites: 'Comptes en retard', ls_totals: 'Total par article',
    ls_lines: 'Par organisation et article', ls_changes: 'Évolution depuis le {since} : {n} ligne(s) ont changé',
    sr_sites: '{n} site(s) perturbé(s) sur {of}', sr_incidents: '{n} incident(s) ouvert(s) dont {p1} P1',
    sr_short: '{n} article(s) en déficit sous 24 h sur {of}', sr_decisions: '{n} décision(s) sur la période',
    sr_as_of: 'Arrêté au {at}, journal jusqu’à l’événement n° {seq} ; période depuis le {from}.',
    sr_sites_not_ok: 'Sites perturbés', sr_worst: 'Incidents P1-P2 et majeurs', sr_summary: 'Résumé',
    sr_shortfalls: 'Déficits sous 24 h', sr_missing: 'Manque', sr_decision_list: 'Décisions de la main courante',
    sr_when: 'Heure', sr_by: 'Par', sr_decision: 'Décision',
    rp_title: 'Rapports rédigés', rp_pending: '{n} rapport(s) attendent une approbation ou une publication.',
    rp_none_pending: 'Aucun rapport en attente ({n} rédigé(s)).', rp_draft_logstat: 'Rédiger le LOGSTAT à cet instant',
    rp_draft_sitrep: 'Rédiger le SITREP à cet instant', rp_drafted: 'Rapport rédigé', rp_report: 'Rapport', rp_by: 'Rédigé → approuvé → publié par',
    rp_approve: 'Approuver', rp_publish: 'Publier', rp_reject: 'Rejeter', rp_approved: 'Rapport approuvé', rp_published: 'Rapport publié',
    rp_rejected: 'Rapport rejeté', rp_st_draft: 'projet', rp_st_approved: 'approuvé', rp_st_published: 'publié', rp_st_rejected: 'rejeté',
    rp_empty: 'Aucun rapport rédigé.',
    exercices: 'Exercices', ex_running: '{n} exercice(s) en cours : {names}.', ex_none_running: 'Aucun exercice en cours.',
    ex_inside: 'Vous êtes dans l’exercice « {name} » : rien de ce que vous faites n’atteint le Vigie réel.', ex_leave: 'Quitter l’exercice',
    ex_injects: '{n} injects', ex_speed: 'Vitesse (×)', ex_scenario: 'Scénario', ex_start: 'Démarrer l’exercice', ex_started: 'Exercice démarré',
    ex_start_title: 'Démarrer un exercice', ex_start_note: 'Un bac à sable part de l’état réel à cet instant : son propre journal, ni message ni synchronisation vers l’extérieur.',
    ex_name: 'Exercice', ex_started_at: 'Commencé le', ex_clock: 'Temps', ex_fired: 'Injects joués', ex_paused: 'en pause', ex_ended: 'terminé',
    ex_running_one: 'en cours', ex_join: 'Rejoindre', ex_joined: 'Exercice rejoint', ex_pause: 'Pause', ex_resume: 'Reprendre', ex_end: 'Terminer',
    ex_pause_done: 'Exercice en pause', ex_resume_done: 'Exercice repris', ex_end_done: 'Exercice terminé', ex_review: 'Retour d’expérience',
    ex_empty: 'Aucun exercice.', ex_missed: 'Manqué : {what}.', ex_review_of: 'Retour d’expérience — {name}',
    ex_score: '{done} action(s) attendue(s) sur {of} faite(s), dont {on_time} dans les temps.',
    ex_review_meta: 'Commencé le {started}, vitesse ×{speed}, temps joué {played}.', ex_injects_title: 'Injects : attendu et fait',
    ex_inject: 'Inject', ex_planned: 'Prévu', ex_expected: 'Attendu', ex_done: 'Fait', ex_on_time: 'dans les temps', ex_late: 'en retard',
    ex_missed_one: 'manqué', ex_response: 'Réponse', ex_action: 'Action', ex_timeline: 'Chronologie des actions', ex_no_action: 'Aucune action.',
    ex_last: 'dernier inject : {title}',
    tl_notified: 'Prévenu', tl_acknowledged: 'Acquitté', inc_ack: 'Acquitter (arrête l’escalade)', inc_ack_done: 'acquitté',
    inc_acknowledged: 'Acquitté le {at} par {by} : l’escalade est arrêtée.',
    tl_decision: 'Décision', tl_note: 'Note', tl_handover: 'Passation', tl_plan: 'Plan',
    who_admin: 'administrateur', who_strategic: 'centre stratégique', who_tactical: 'groupement de soutien', who_toc: 'TOC',
    who_partner: 'partenaire', who_viewer: 'lecture seule',
    checks_by_cause: '{n} contrôle(s) en anomalie, {roots} cause(s) : les causes d’abord, leurs conséquences repliées dessous',
    consequences: '{n} conséquence(s)', comment: 'Commentaire', acked_by: 'Acquitté par {by} le {at} : « {comment} »',
    held_by_alert: 'Tenu par une alerte Alertmanager ({s}) jusqu’à sa résolution', history_24h: 'Dernières 24 heures',
    availability_24h: 'de disponibilité sur les 24 dernières heures (temps en OK ou signaux faibles, sur ce temps plus celui en erreur ou injoignable ; inconnu et maintenance exclus)',
    availability_maintenance: 'Ni disponible ni en panne sur les 24 dernières heures (inconnu ou maintenance) : pas de disponibilité à mesurer.',
    handover_title: 'Passation du quart {shift}', handover_from: 'De : {from}.', handover_from_none: 'Aucune entrée dans ce quart.',
    handover_signed: 'Reçue et signée par {by} le {at} : « {text} »', handover_unsigned: 'Pas encore signée par le chef du quart entrant.',
    handover_breaches: 'SLA dépassés', handover_pending: 'Décisions en attente', none: 'Aucun', print: 'Imprimer',
    handover_sign: 'Signer la passation (chef du quart entrant)', handover_note: 'Observation (facultatif)',
    handover_received: 'Passation reçue', handover_signed_toast: 'Passation signée', tl_signature: 'Signature',
    since_hhmm: 'depuis {t}', and_more: 'et {n} autre(s)', stale_output: 'aucun résultat dans le délai attendu',
    feed_cause: 'Cause {cause}{site} : {n} contrôle(s) touché(s)', feed_many: '{n} contrôles{site}',
    table: 'Table', drop_here: 'Déposez ici des fichiers CSV ou XLSX, ou choisissez-les.',
    import_reductions: 'Attention : ce recomptage retire du stock ({n} article(s) en baisse sur un site, dont {gone} qui disparaissent). Un comptage remplace les lignes du site.',
    filters: 'Filtres', all: 'Tous', sort: 'Tri', sort_urgency: 'priorité puis SLA', sort_sla: 'SLA le plus proche', sort_opened: 'plus récents',
    sla_met: 'tenu', sla_missed: 'manqué de {t}', sla_overdue: 'dépassé de {t}', sla_left: 'reste {t}', sla_paused: 'en pause',
    major: 'Majeur', major_proposed: 'majeur proposé', major_accepted: 'majeur accepté', major_rejected: 'majeur rejeté',
    duplicate: 'Déjà ouvert pour la même alerte ou le même site : {list}. Cliquez encore sur « Créer » pour en ouvrir un autre.',
    inc_next: 'Suite à donner', inc_take: 'Prendre en charge', inc_assign: 'Affecter', assigned_to: 'Personne',
    inc_hold: 'Mettre en attente', hold_reason: 'Motif d’attente', hold_1: 'Attente demandeur', hold_2: 'Attente changement',
    hold_3: 'Attente problème', hold_4: 'Attente fournisseur', hold_5: 'Attente éléments',
    inc_resolve: 'Résoudre', close_code: 'Code de clôture', close_notes: 'Notes de résolution',
    resolution_proposed: 'Résolution proposée ({code}) : {notes}. L’accepter clôt l’incident ; la rejeter le rouvre.',
    inc_accept: 'Accepter la résolution', inc_reject: 'Rejeter (rouvrir)', inc_cancel: 'Annuler l’incident',
    major_propose: 'Proposer en incident majeur', major_accept: 'Accepter l’incident majeur', major_reject: 'Rejeter l’incident majeur',
    saved: 'enregistré', changed_meanwhile: 'L’incident a changé entre-temps (voir la chronologie) : rien n’a été appliqué, vérifiez puis recommencez.', close_0: 'Résolu (définitivement)', close_1: 'Résolu (contournement)', close_2: 'Résolu à distance (définitivement)',
    close_3: 'Non résolu (non reproductible)', close_4: 'Clos ou résolu par le demandeur',
    horizon: 'Horizon', within_1h: 'sous 1 h', within_3h: 'sous 3 h', within_all: 'toutes distances', within_h: 'à moins de {h}',
    days_word: 'jours', autonomy_for: 'd’autonomie pour {n} personnes, limitée par {item} (sources {within})',
    sources_within: 'site(s) détiennent ces articles {within} de {near}',
    shift_preview: 'Aperçu : {n} site(s) et {m} force(s) ({p} personnes) passeraient de {from} à {to}',
    shift_applied: 'Bascule appliquée : {n} site(s) et {m} force(s) ({p} personnes) passent de {from} à {to}',
    shift_nothing_yet: 'Rien n’est encore appliqué.', shift_effect: 'Effet sur chaque organisation (ses propres sites et forces)',
    shift_falls: 'Attention, des couvertures passent sous le besoin : {list}.', shift_apply_q: 'Appliquer : {n} site(s) passent de {from} à {to} ?',
    shift_give_back: 'Rendre à {to}', shift_give_back_q: 'Rendre {site} à {to} ?', shift_undo: 'Retour',
    shift_undo_all: 'Tout rendre à {to}', shift_undo_all_q: 'Rendre les {n} site(s) à {from} ?',
    counted_lots: 'Lots comptés (les mouvements des plans s’ajoutent au total par article)',
    cond_serviceable: 'en état', cond_unserviceable: 'hors d’usage',
    handover_reliefs: 'Relève en fin de quart', handover_relief: '{team} — {from} passe la main à {to}',
    astreintes: 'Astreintes', oc_until: 'jusqu’à {at}', oc_until_day: 'jusqu’au {at}', oc_teams: '{n} équipes', oc_override: 'remplacement : {why}', oc_at: 'À',
    oc_search: 'Équipe, partenaire, personne', oc_search_hint: 'ATOS, permanence, Martin…', oc_show: 'Afficher', oc_now: 'Maintenant',
    oc_answer: '{people} personne(s) de permanence maintenant, pour {teams} équipe(s).',
    oc_answer_at: '{people} personne(s) de permanence le {at}, pour {teams} équipe(s).',
    oc_next: 'Prochaine relève à {at} ({team}).', oc_team: 'Équipe', oc_level1: 'Premier appel', oc_level2: 'Second niveau',
    oc_nobody: 'Personne de permanence pour ces équipes.',
    oc_view_now: 'Maintenant', oc_view_calendrier: 'Calendrier', oc_view_personnes: 'Personnes',
    oc_people_answer: '{n} personne(s) dans les rotations que vous voyez.', oc_people_missing: '{n} sans courriel ni mobile : on ne peut pas les prévenir.',
    oc_people_all_reachable: 'Chacune a un moyen d’être prévenue.', oc_new_person: 'Nouvelle personne', oc_edit_person: 'Modifier {who}',
    oc_whom: 'Partenaire ou organisation', oc_email: 'Courriel', oc_mobile: 'Mobile', oc_chat_handle: 'Identifiant de discussion',
    oc_partner: 'Partenaire', oc_organization: 'Organisation', oc_id: 'Identifiant', oc_name: 'Nom', oc_save_person: 'Enregistrer',
    oc_person_saved: 'Personne enregistrée.', oc_new_team: 'Nouvelle équipe', oc_edit_team: 'Modifier l’équipe {team}',
    oc_site: 'Site', oc_webhook_hint: 'nom d’un canal de la configuration', oc_first_person: 'Premier de permanence', oc_save_team: 'Enregistrer l’équipe',
    oc_team_saved: 'Équipe enregistrée.', oc_view_escalade: 'Escalade', oc_view_messages: 'Messages envoyés',
    oc_level_n: 'niveau {n}', oc_period_shift: '3×8', oc_period_daily: 'quotidienne', oc_period_weekly: 'hebdomadaire',
    oc_cal_answer: 'Du {from}, sur {days} jours : {teams} équipe(s), {levels} niveau(x) d’astreinte, {overrides} remplacement(s).',
    oc_cal_hint: 'Cliquez une permanence pour la faire tenir par quelqu’un d’autre.', oc_earlier: 'Avant', oc_later: 'Après',
    oc_today: 'Aujourd’hui', oc_new_override: 'Nouveau remplacement', oc_override_of: 'Remplacement par {who}',
    oc_from: 'Du', oc_to: 'Au', oc_person: 'Personne', oc_person_hint: 'choisir…', oc_others: 'Autres équipes', oc_edit_rotation: 'Modifier la rotation', oc_up: 'Monter', oc_take_off: 'Retirer', oc_add_person: '+ ajouter une personne…', oc_rotation_saved: 'Rotation enregistrée.', oc_period: 'Rythme', oc_first_handover: 'Première relève', oc_turns: 'Tour de rôle, dans l’ordre', oc_save_rotation: 'Enregistrer la rotation', oc_reason: 'Motif',
    oc_reason_hint: 'échange, congé, formation…', oc_save_override: 'Enregistrer le remplacement', oc_remove_override: 'Retirer ce remplacement',
    oc_override_saved: 'Remplacement enregistré.', oc_override_removed: 'Remplacement retiré.',
    oc_esc_answer: 'Sans acquittement en {min} min, le niveau suivant est appelé ({teams} équipe(s)).',
    oc_esc_off: 'La diffusion des alertes est coupée : aucun relais SMTP n’est configuré ([notify] smtp_host).',
    oc_esc_channels: 'Canaux : {list}.', oc_ch_email: 'courriel à chaque appel', oc_ch_sms: 'SMS jusqu’à P{p} ({gw})',
    oc_ch_voice: 'appel vocal jusqu’à P{p} ({gw})', oc_ch_chat: '{n} canal(aux) de discussion configuré(s)',
    oc_rule_escalate: 'Incident ouvert ou réaffecté : le premier niveau de l’équipe est appelé ; sans acquittement en {min} min, le suivant ; après le dernier, la chaîne reprend {repeats} fois.',
    oc_rule_updates: 'Qui tient l’incident est prévenu une fois de chaque changement : priorité relevée, SLA bientôt dépassé puis dépassé, incident majeur proposé puis accepté (un fil par incident).',
    oc_rule_plans: 'Un plan non expédié en {ship} min, ou non réceptionné {late} min après son arrivée prévue : la permanence de l’organisation destinataire est prévenue.',
    oc_rule_coverage: 'Couverture sous le seuil pour une organisation ({items}) : sa permanence est prévenue, une fois par jour.',
    oc_rule_shift: 'Chacun est prévenu {min} min avant le début de sa permanence.',
    oc_rule_link: 'Chaque message porte un lien d’acquittement en un clic, valable {min} min, utilisable une fois.',
    oc_rule_old: 'Un incident ouvert depuis plus de {min} min et jamais appelé ne l’est pas (mise en service sans rafale).',
    oc_rule_quiet: 'Silence : fenêtres de maintenance ; un incident acquitté n’escalade plus (seuls une réaffectation et un incident majeur sont encore annoncés).',
    oc_chain: 'Chaîne d’escalade (qui maintenant)', oc_after: '{min} min', oc_nobody_short: 'personne', oc_chat: 'Canal de discussion',
    oc_chat_unknown: 'absent de la configuration',
    oc_state: 'État', oc_channel: 'Canal', oc_all: 'Tous', oc_st_sent: 'envoyé', oc_st_queued: 'en attente', oc_st_failed: 'en échec',
    oc_st_given_up: 'abandonné', oc_chan_email: 'courriel', oc_chan_chat: 'discussion', oc_chan_sms: 'SMS', oc_chan_voice: 'appel vocal',
    oc_log_answer: '{total} message(s), dont {sent} envoyé(s).', oc_log_rest: '{failed} en échec (nouvel essai prévu), {given_up} abandonné(s), {queued} en attente.',
    oc_log_all_sent: 'Tous ont été remis.', oc_log_none: 'Rien n’a encore été envoyé.', oc_log_empty: 'Aucun message.', oc_when: 'Quand', oc_why: 'Pourquoi', oc_to_whom: 'À qui',
    oc_subject: 'Objet', oc_acked: 'Acquitté', oc_retry: 'nouvel essai le {at}', oc_attempts: '{n} essais',
    oc_why_opened: 'Appel (ouverture)', oc_why_escalated: 'Escalade', oc_why_assigned: 'Réaffectation', oc_why_repeated: 'Relance', oc_why_priority: 'Priorité relevée',
    oc_why_sla_warning: 'SLA bientôt dépassé', oc_why_sla_breach: 'SLA dépassé', oc_why_major_proposed: 'Incident majeur proposé',
    oc_why_major_accepted: 'Incident majeur accepté', oc_why_shift: 'Début de permanence', oc_why_plan_not_shipped: 'Plan non expédié',
    oc_why_plan_late: 'Plan en retard', oc_why_coverage: 'Couverture basse',
    preparation: 'Préparation', rd_answer: '{ontime} sites sur {total} prêts à temps.', rd_late: '{n} en retard.',
    rd_none_late: 'Aucun en retard.', rd_ready: '{n} déjà prêts.', rd_blocked: '{n} cause(s) de blocage retiennent {held} tâche(s).',
    rd_none_blocked: 'Rien n’est bloqué.', rd_blockers: 'Causes de blocage', rd_no_reason: 'sans motif',
    rd_holds: '(bloque {n} tâche(s) · {owner})', rd_sites: 'Sites', rd_done: 'Fait', rd_ready_at: 'Prêt le (projeté)',
    rd_deadline: 'Échéance', rd_is_late: 'En retard', rd_n_blocked: '{n} tâche(s) bloquée(s)', rd_on_time: 'À temps',
    rd_images: 'Conformité des images', rd_images_bad: '{n} poste(s) n’ont pas l’image exigée par leur zone.',
    rd_images_ok: 'Tous les postes imagés ont l’image de leur zone.', rd_computer: 'Poste', rd_zone: 'Zone',
    rd_runs: 'Image installée', rd_required: 'Image exigée', rd_all_sites: 'Tous les sites',
    rd_site_ready: 'Prêt le {at} (projeté).', rd_site_done: 'Prêt.', rd_site_late: 'Après l’échéance du {deadline}.',
    rd_site_on_time: 'Avant l’échéance du {deadline}.', rd_site_done_share: '{pct} fait ({done} tâches sur {n}).',
    rd_site_roots: '{n} cause(s) de blocage : {names}.', rd_root: 'Cause de blocage', rd_timeline: 'Calendrier des tâches',
    rd_timeline_legend: 'Vert : terminé · bleu : en cours · rouge : bloqué · orange : retenu par un blocage · gris : à faire ; cadre épais : chemin critique.',
    rd_st_todo: 'À faire', rd_st_in_progress: 'En cours', rd_st_blocked: 'Bloquée', rd_st_done: 'Terminée', rd_st_verified: 'Vérifiée',
    rd_plan: 'plan {id}', rd_shipped: 'expédié le {at}', rd_plan_route: 'de {from} vers {to}', rd_why_blocked: 'Pourquoi la tâche est-elle bloquée ?',
    rd_moved: '{name} : {status}', rd_force: 'Forcer (ce sera journalisé)', rd_do_in_progress: 'Commencer',
    rd_do_done: 'Terminer', rd_do_blocked: 'Bloquer…', rd_do_verified: 'Vérifier',
    rd_pcs: '{n} poste(s) :', rd_pc_failing: 'en service mais en échec', rd_pc_in_depot: 'en dépôt', rd_pc_delivered: 'livré(s)',
    rd_my_tasks: 'Mes tâches d’ici ce soir ({n})', rd_owner_tasks: 'Tâches d’un responsable d’ici ce soir', rd_owner: 'Responsable',
    rd_task: 'Tâche', rd_start: 'Début (projeté)', rd_nothing_today: 'Rien à commencer d’ici ce soir.',
    rd_moved_by: 'par {by} le {at}', rd_what_proves: 'Qu’est-ce qui le prouve (procès-verbal, photo…) ?', rd_evidence: 'Preuve : {what}', rd_by_trade: 'Par métier', rd_by_owner: 'Par responsable', rd_trade: 'Métier', rd_tasks_done: 'Tâches faites',
    rd_n_late: '{n} tâche(s) en retard', rd_after: 'Après : {names}',
    rd_trade_furniture: 'Mobilier', rd_trade_power: 'Électricité', rd_trade_network: 'Réseau', rd_trade_delivery: 'Livraison',
    rd_trade_installation: 'Installation', rd_trade_imaging: 'Imagerie', rd_trade_tests: 'Tests', rd_trade_results: 'Résultats',
    rd_all_zones: 'Toutes les zones', rd_printed: 'Imprimé le {at}', rd_on_map: 'Voir sur la carte', rd_on_wall: 'Mur en mode préparation', mode_health: 'Santé en direct', mode_readiness: 'Préparation', rd_map_line: 'Préparation : {pct} fait, {state}',
    rd_ready_by: 'prêt le {at}', rd_open_timeline: 'Calendrier du site', rd_wall_title: 'Préparation des sites',
    rd_wall_answer: '{ontime} sites sur {total} prêts à temps', rd_at_risk_legend: 'à risque : à temps, mais une tâche bloquée ou en retard',
    rd_late_deliveries: 'Livraisons en retard', rd_delays: '(retarde {n} tâche(s))', rd_delayed: 'retardée par {name}',
    rd_expected: 'attendu le {at}', rd_overdue: 'attendu le {at} : EN RETARD',
    rd_pc_installed: 'installé(s)', rd_pc_imaged: 'imagé(s)', rd_pc_tested: 'testé(s)', rd_pc_in_service: 'en service',
    plan: 'Plan', plan_committed: 'Engagé', plan_shipped: 'Expédié', plan_received: 'Réceptionné', plan_cancelled: 'Annulé',
    purpose_reinforce: 'renfort', purpose_deploy: 'déploiement', confirm_yes: 'Confirmer', confirm_no: 'Non',
    ask_ship: 'Expédier {id} vers {to} ? Le stock quitte ses origines.', ask_receive: 'Réceptionner {id} à {to} ? Le stock y entre.',
    ask_cancel: 'Annuler {id} ? Les réservations et les véhicules sont libérés.',
    done_ship: '{id} expédié vers {to}', done_receive: '{id} réceptionné à {to}', done_cancel: '{id} annulé',
    not_found: 'Introuvable', forbidden_page: 'Votre rôle ne donne pas accès à cette page.',
    not_found_page: 'Cette page n’existe pas.', back_home: 'Retour à l’accueil',
    err_invalid: 'Données refusées', err_signed_out: 'Session terminée : reconnectez-vous', err_conflict: 'Conflit',
    err_too_large: 'Trop volumineux', err_throttled: 'Trop de tentatives : patientez', err_unavailable: 'Service momentanément indisponible : réessayez',
    vk_truck: 'camion(s)', vk_bus: 'car(s)', vk_light: 'véhicule(s) léger(s)', role_persons: 'personnes', role_kit: 'matériel',
    by_origin: 'Par origine', pickup: 'Prise en charge', picks_up: 'prennent {n} personnes à {at}', brings: 'apportent {items}',
    travel: 'Trajet', incoming: 'En route', surplus: 'Surplus', uncovered: 'Non couvert', uncovered_need: 'Besoin non couvert',
    suf_short: 'manquent', suf_covered: 'Besoin couvert',
    suf_detail: 'Unité : {unit} · dotation {per} par personne · {persons} personnes engagées · besoin {need} · en état ou en route {supply} ({pct})',
    suf_net: 'Le total compense entre organisations : {short} ; {surplus}.',
    suf_net_short: 'manquent à {list}', suf_net_surplus: 'surplus à {list}',
    suf_sites: '{n} site(s) dont le besoin n’est pas couvert par leur organisation (anneau sur la carte).',
    covered_all: 'Tout est couvert.', reinforce_this: 'Renforcer ce site',
    ring_legend: 'Besoin non couvert par l’organisation', all_covered_here: 'Aucun besoin non couvert ici.',
  },
  en: {
    situation: 'Situation', logistique: 'Logistics', stock: 'Stock', mur: 'Wall', supervision: 'Monitoring',
    incidents: 'Incidents', courante: 'Operations log', import: 'Import', login: 'Sign in', logout: 'Sign out',
    user: 'User', password: 'Password', signin: 'Sign in', wrong: 'Wrong user name or password',
    layers: 'Layers', venues: 'Competition venues', depots: 'Depots', bases: 'Bases and camps', forces: 'Forces',
    vehicles: 'Vehicles', others: 'Other sites', site: 'Site', item: 'Item', quantity: 'Quantity',
    serviceable: 'Serviceable', on_hand: 'On hand', reserved: 'Reserved', in_transit: 'In transit', available: 'Available',
    need: 'Need', shortfall: 'Shortfall', coverage: 'Coverage', freshness: 'Freshness', lot: 'Lot', expires: 'Expires',
    checks: 'Checks', open_incidents: 'Open incidents', close: 'Close', sufficiency: 'Sufficiency',
    locate: 'Locate', reinforce: 'Reinforce', deploy: 'Deploy', plans: 'Plans', shift: 'Shift of effort',
    whatif: 'What if…', ask: 'Ask', all_items: 'All items', days: 'Days', on: 'On', near: 'Near',
    headcount: 'Headcount', from: 'From', to: 'To', by: 'By', need_list: 'Need (ITEM=QTY,…)',
    commit: 'Commit', committed: 'Plan committed', ship: 'Ship', receive: 'Receive', cancel: 'Cancel',
    status: 'Status', destination: 'Destination', movements: 'Movements', purpose: 'Purpose', eta: 'Arrival',
    sources: 'Sources', unmet: 'Unmet', dry_run: 'Preview', apply: 'Apply', reason: 'Reason',
    organisation: 'Organisation', national: 'National', state: 'State', output: 'Output', since: 'Since',
    acknowledge: 'Acknowledge', maintenance: 'Maintenance', history: 'History', availability: 'Availability',
    application: 'Application', suite: 'Suite', priority: 'Priority', number: 'Number', description: 'Description',
    sla: 'SLA', create: 'Create', timeline: 'Timeline', crisis: 'Crisis', entries: 'Entries', add: 'Add',
    handover: 'Handover', shift_now: 'Shift', text: 'Text', kind: 'Kind', files: 'Files', choose_files: 'Choose files…', validate: 'Validate',
    confirm: 'Confirm the import', report: 'Report', problems: 'Problems', nothing_written: 'nothing was written',
    imported: 'Imported', latest_changes: 'Latest changes', major_incidents: 'Major incidents',
    live: 'live', offline: 'offline', suites: 'Suites', sites: 'Sites', loading: 'Loading…',
    no_data: 'No data', persons: 'persons', vehicle_km: 'vehicle-km', plan_ready: 'Plan ready to commit',
    impact: 'Impact', urgency: 'Urgency', location: 'Location', assignment_group: 'Group', state_new: 'New',
    breached: 'breached', warning_sla: 'warning', ok: 'OK', forbidden: 'Access denied', start: 'Start', end: 'End',
    scenario: 'Scenario (JSON)', effect: 'Effect', before: 'Before', after: 'After', expiring: 'Lots expiring within 30 days',
    inc_1: 'New', inc_2: 'In progress', inc_3: 'On hold', inc_6: 'Resolved', inc_7: 'Closed', inc_8: 'Canceled',
    sla_response: 'Response SLA', sla_resolution: 'Resolution SLA', crisis_lead: 'Crisis lead',
    work_note: 'Work note', alerts: 'Alerts', scope: 'Scope', breadcrumb: 'Breadcrumb',
    coverage_note: 'coverage of the need (available / need), or the quantity available where there is no need', rows: 'Rows',
    created: 'Created', updated: 'Updated', unchanged: 'Unchanged', events: 'event(s)',
    eta_optimal: 'soonest arrival proven', map_label: 'Map of France',
    zoom_in: 'Zoom in', zoom_out: 'Zoom out', basemap: 'Basemap', departements: 'Départements', legs: 'Legs',
    sites_in_view: 'Sites in view', sites_in_view_n: '{n} site(s) in view on the map',
    map_search: 'Find a site (id, name, commune)', map_search_ph: 'Site, id or commune', map_find: 'Find',
    map_no_match: 'No site matches “{q}”', presets: 'Views', preset_france: 'France', preset_idf: 'Île-de-France',
    preset_marseille: 'Marseille', skip_to_list: 'Skip to the list of sites', cluster_title: '{n} sites — worst: {state}', alert_of: 'Alert',
    tl_state: 'State', tl_work_note: 'Work note', tl_comment: 'Comment', tl_alert: 'Alert',
    rep_late: '{n} of {of} site(s) have not counted their stock for more than {hours} h: their figures are old.',
    rep_on_time: 'All {of} sites counted their stock within the last {hours} hours.', rep_last_count: 'Last count',
    rep_age: 'Ago', rep_hours: '{h} h',
    rapports: 'Reports', rep_at: 'As of (Paris time)', rep_since: 'Changes since', rep_show: 'Show',
    rep_download: 'Download:', ls_short: '{n} of {of} item(s) short within 24 h: {items}.',
    ls_none_short: 'No item short within 24 h ({of} item(s) followed).',
    ls_late: '{n} line(s) rest on a count older than {hours} h.',
    ls_as_of: 'As of {at}, journal up to event no. {seq}.', ls_need_24: 'Need 24 h', ls_days: 'Days of supply',
    ls_balance_24: 'Balance 24 h', ls_balance_72: 'Balance 72 h', ls_late_sites: 'Late counts', ls_totals: 'Total per item',
    ls_lines: 'Per organisation and item', ls_changes: 'Changes since {since}: {n} line(s) changed',
    sr_sites: '{n} of {of} site(s) disrupted', sr_incidents: '{n} open incident(s), {p1} P1',
    sr_short: '{n} of {of} item(s) short within 24 h', sr_decisions: '{n} decision(s) in the period',
    sr_as_of: 'As of {at}, journal up to event no. {seq}; period since {from}.',
    sr_sites_not_ok: 'Disrupted sites', sr_worst: 'P1-P2 and major incidents', sr_summary: 'Summary',
    sr_shortfalls: 'Short within 24 h', sr_missing: 'Missing', sr_decision_list: 'Decisions of the operations log',
    sr_when: 'Time', sr_by: 'By', sr_decision: 'Decision',
    rp_title: 'Drafted reports', rp_pending: '{n} report(s) await approval or publication.',
    rp_none_pending: 'No report pending ({n} drafted).', rp_draft_logstat: 'Draft the LOGSTAT at this instant',
    rp_draft_sitrep: 'Draft the SITREP at this instant', rp_drafted: 'Report drafted', rp_report: 'Report', rp_by: 'Drafted → approved → published by',
    rp_approve: 'Approve', rp_publish: 'Publish', rp_reject: 'Reject', rp_approved: 'Report approved', rp_published: 'Report published',
    rp_rejected: 'Report rejected', rp_st_draft: 'draft', rp_st_approved: 'approved', rp_st_published: 'published', rp_st_rejected: 'rejected',
    rp_empty: 'No report drafted.',
    exercices: 'Exercises', ex_running: '{n} exercise(s) running: {names}.', ex_none_running: 'No exercise running.',
    ex_inside: 'You are in the exercise “{name}”: nothing you do reaches the live Vigie.', ex_leave: 'Leave the exercise',
    ex_injects: '{n} injects', ex_speed: 'Speed (×)', ex_scenario: 'Scenario', ex_start: 'Start the exercise', ex_started: 'Exercise started',
    ex_start_title: 'Start an exercise', ex_start_note: 'A sandbox starts from the live state at this instant: its own journal, no message or sync to the outside.',
    ex_name: 'Exercise', ex_started_at: 'Started', ex_clock: 'Time', ex_fired: 'Injects played', ex_paused: 'paused', ex_ended: 'ended',
    ex_running_one: 'running', ex_join: 'Join', ex_joined: 'Exercise joined', ex_pause: 'Pause', ex_resume: 'Resume', ex_end: 'End',
    ex_pause_done: 'Exercise paused', ex_resume_done: 'Exercise resumed', ex_end_done: 'Exercise ended', ex_review: 'After-action review',
    ex_empty: 'No exercise.', ex_missed: 'Missed: {what}.', ex_review_of: 'After-action review — {name}',
    ex_score: '{done} of {of} expected action(s) done, {on_time} on time.',
    ex_review_meta: 'Started {started}, speed ×{speed}, time played {played}.', ex_injects_title: 'Injects: expected and done',
    ex_inject: 'Inject', ex_planned: 'Planned', ex_expected: 'Expected', ex_done: 'Done', ex_on_time: 'on time', ex_late: 'late',
    ex_missed_one: 'missed', ex_response: 'Response', ex_action: 'Action', ex_timeline: 'Timeline of actions', ex_no_action: 'No action.',
    ex_last: 'last inject: {title}',
    tl_notified: 'Told', tl_acknowledged: 'Acknowledged', inc_ack: 'Acknowledge (stops the escalation)', inc_ack_done: 'acknowledged',
    inc_acknowledged: 'Acknowledged on {at} by {by}: the escalation is stopped.',
    tl_decision: 'Decision', tl_note: 'Note', tl_handover: 'Handover', tl_plan: 'Plan',
    who_admin: 'administrator', who_strategic: 'strategic centre', who_tactical: 'support group', who_toc: 'TOC',
    who_partner: 'partner', who_viewer: 'read only',
    checks_by_cause: '{n} check(s) in trouble, {roots} cause(s): causes first, their consequences folded under them',
    consequences: '{n} consequence(s)', comment: 'Comment', acked_by: 'Acknowledged by {by} on {at}: “{comment}”',
    held_by_alert: 'Held by an Alertmanager alert ({s}) until it is resolved', history_24h: 'Last 24 hours',
    availability_24h: 'available over the last 24 hours (time in OK or weak signals, over that and the time in error or unreachable; unknown and maintenance left out)',
    availability_maintenance: 'Neither up nor down over the last 24 hours (unknown or maintenance): no availability to measure.',
    handover_title: 'Hand-over of the {shift} shift', handover_from: 'From: {from}.', handover_from_none: 'No entry in this shift.',
    handover_signed: 'Received and signed by {by} on {at}: “{text}”', handover_unsigned: 'Not yet signed by the incoming lead.',
    handover_breaches: 'SLA breaches', handover_pending: 'Pending decisions', none: 'None', print: 'Print',
    handover_sign: 'Sign the hand-over (incoming lead)', handover_note: 'Remark (optional)',
    handover_received: 'Hand-over received', handover_signed_toast: 'Hand-over signed', tl_signature: 'Signature',
    since_hhmm: 'since {t}', and_more: 'and {n} more', stale_output: 'no result within the expected time',
    feed_cause: 'Cause {cause}{site}: {n} check(s) hit', feed_many: '{n} checks{site}',
    table: 'Table', drop_here: 'Drop CSV or XLSX files here, or choose them.',
    import_reductions: 'Warning: this recount takes stock away ({n} item(s) fall at a site, {gone} of them disappear). A count replaces the site\'s lines.',
    filters: 'Filters', all: 'All', sort: 'Sort', sort_urgency: 'priority then SLA', sort_sla: 'nearest SLA', sort_opened: 'newest',
    sla_met: 'met', sla_missed: 'missed by {t}', sla_overdue: 'overdue by {t}', sla_left: '{t} left', sla_paused: 'paused',
    major: 'Major', major_proposed: 'major proposed', major_accepted: 'major accepted', major_rejected: 'major rejected',
    duplicate: 'Already open for the same alert or site: {list}. Click “Create” again to open another.',
    inc_next: 'Next steps', inc_take: 'Take', inc_assign: 'Assign', assigned_to: 'Person',
    inc_hold: 'Put on hold', hold_reason: 'Hold reason', hold_1: 'Awaiting caller', hold_2: 'Awaiting change',
    hold_3: 'Awaiting problem', hold_4: 'Awaiting vendor', hold_5: 'Awaiting evidence',
    inc_resolve: 'Resolve', close_code: 'Close code', close_notes: 'Resolution notes',
    resolution_proposed: 'Resolution proposed ({code}): {notes}. Accepting closes the incident; rejecting reopens it.',
    inc_accept: 'Accept the resolution', inc_reject: 'Reject (reopen)', inc_cancel: 'Cancel the incident',
    major_propose: 'Propose as a major incident', major_accept: 'Accept the major incident', major_reject: 'Reject the major incident',
    saved: 'saved', changed_meanwhile: 'The incident changed meanwhile (see the timeline): nothing was applied; check, then try again.', close_0: 'Solved (permanently)', close_1: 'Solved (work around)', close_2: 'Solved remotely (permanently)',
    close_3: 'Not solved (not reproducible)', close_4: 'Closed/resolved by caller',
    horizon: 'Horizon', within_1h: 'within 1 h', within_3h: 'within 3 h', within_all: 'any distance', within_h: 'within {h}',
    days_word: 'days', autonomy_for: 'of autonomy for {n} persons, limited by {item} (sources {within})',
    sources_within: 'site(s) hold these items {within} of {near}',
    shift_preview: 'Preview: {n} site(s) and {m} force(s) ({p} persons) would pass from {from} to {to}',
    shift_applied: 'Shift applied: {n} site(s) and {m} force(s) ({p} persons) pass from {from} to {to}',
    shift_nothing_yet: 'Nothing is applied yet.', shift_effect: 'Effect on each organisation (its own sites and forces)',
    shift_falls: 'Warning, coverage falls below the need: {list}.', shift_apply_q: 'Apply: {n} site(s) pass from {from} to {to}?',
    shift_give_back: 'Give back to {to}', shift_give_back_q: 'Give {site} back to {to}?', shift_undo: 'Back',
    shift_undo_all: 'Give all back to {to}', shift_undo_all_q: 'Give the {n} site(s) back to {from}?',
    counted_lots: 'Counted lots (plans\' movements add to the totals by item)',
    cond_serviceable: 'serviceable', cond_unserviceable: 'unserviceable',
    handover_reliefs: 'Relief at the end of the shift', handover_relief: '{team} — {from} hands over to {to}',
    astreintes: 'On call', oc_until: 'until {at}', oc_until_day: 'until {at}', oc_teams: '{n} teams', oc_override: 'replacing: {why}', oc_at: 'At',
    oc_search: 'Team, partner, person', oc_search_hint: 'ATOS, duty, Martin…', oc_show: 'Show', oc_now: 'Now',
    oc_answer: '{people} person(s) on duty now, for {teams} team(s).',
    oc_answer_at: '{people} person(s) on duty on {at}, for {teams} team(s).',
    oc_next: 'Next hand-over at {at} ({team}).', oc_team: 'Team', oc_level1: 'First called', oc_level2: 'Second level',
    oc_nobody: 'Nobody on duty for these teams.',
    oc_view_now: 'Now', oc_view_calendrier: 'Calendar', oc_view_personnes: 'People',
    oc_people_answer: '{n} person(s) in the rotations you see.', oc_people_missing: '{n} with no email nor mobile: they cannot be told.',
    oc_people_all_reachable: 'Each can be told.', oc_new_person: 'New person', oc_edit_person: 'Edit {who}',
    oc_whom: 'Partner or organisation', oc_email: 'Email', oc_mobile: 'Mobile', oc_chat_handle: 'Chat handle',
    oc_partner: 'Partner', oc_organization: 'Organisation', oc_id: 'Id', oc_name: 'Name', oc_save_person: 'Save',
    oc_person_saved: 'Person saved.', oc_new_team: 'New team', oc_edit_team: 'Edit the team {team}',
    oc_site: 'Site', oc_webhook_hint: 'name of a channel of the configuration', oc_first_person: 'First on duty', oc_save_team: 'Save the team',
    oc_team_saved: 'Team saved.', oc_view_escalade: 'Escalation', oc_view_messages: 'Messages sent',
    oc_level_n: 'level {n}', oc_period_shift: '3 shifts', oc_period_daily: 'daily', oc_period_weekly: 'weekly',
    oc_cal_answer: 'From {from}, over {days} days: {teams} team(s), {levels} on-call level(s), {overrides} override(s).',
    oc_cal_hint: 'Click a duty to have someone else hold it.', oc_earlier: 'Earlier', oc_later: 'Later',
    oc_today: 'Today', oc_new_override: 'New override', oc_override_of: 'Override by {who}',
    oc_from: 'From', oc_to: 'Until', oc_person: 'Person', oc_person_hint: 'choose…', oc_others: 'Other teams', oc_edit_rotation: 'Edit the rotation', oc_up: 'Move up', oc_take_off: 'Take off', oc_add_person: '+ add a person…', oc_rotation_saved: 'Rotation saved.', oc_period: 'Period', oc_first_handover: 'First hand-over', oc_turns: 'Taking turns, in order', oc_save_rotation: 'Save the rotation', oc_reason: 'Reason',
    oc_reason_hint: 'swap, leave, training…', oc_save_override: 'Save the override', oc_remove_override: 'Take this override back',
    oc_override_saved: 'Override saved.', oc_override_removed: 'Override taken back.',
    oc_esc_answer: 'Not acknowledged within {min} min, the next level is called ({teams} team(s)).',
    oc_esc_off: 'Paging is off: no SMTP relay is configured ([notify] smtp_host).',
    oc_esc_channels: 'Channels: {list}.', oc_ch_email: 'email on every page', oc_ch_sms: 'SMS up to P{p} ({gw})',
    oc_ch_voice: 'voice call up to P{p} ({gw})', oc_ch_chat: '{n} chat channel(s) configured',
    oc_rule_escalate: 'Incident opened or reassigned: the team’s first level is called; not acknowledged within {min} min, the next; after the last, the chain starts again {repeats} time(s).',
    oc_rule_updates: 'Whoever holds the incident is told once of each change: priority raised, SLA warning then breach, major incident proposed then accepted (one thread per incident).',
    oc_rule_plans: 'A plan not shipped within {ship} min, or not received {late} min after its expected arrival: the destination organisation’s duty officer is told.',
    oc_rule_coverage: 'Coverage under the threshold for an organisation ({items}): its duty officer is told, once a day.',
    oc_rule_shift: 'Everyone is warned {min} min before their duty starts.',
    oc_rule_link: 'Every message carries a one-click acknowledgement link, valid {min} min, usable once.',
    oc_rule_old: 'An incident opened more than {min} min ago and never paged is not paged (no burst when switched on).',
    oc_rule_quiet: 'Quiet: maintenance windows; an acknowledged incident no longer escalates (only a reassignment and a major incident are still told).',
    oc_chain: 'Escalation chain (who now)', oc_after: '{min} min', oc_nobody_short: 'nobody', oc_chat: 'Chat channel',
    oc_chat_unknown: 'missing from the configuration',
    oc_state: 'State', oc_channel: 'Channel', oc_all: 'All', oc_st_sent: 'sent', oc_st_queued: 'queued', oc_st_failed: 'failed',
    oc_st_given_up: 'given up', oc_chan_email: 'email', oc_chan_chat: 'chat', oc_chan_sms: 'SMS', oc_chan_voice: 'voice call',
    oc_log_answer: '{total} message(s), {sent} sent.', oc_log_rest: '{failed} failed (to be retried), {given_up} given up, {queued} queued.',
    oc_log_all_sent: 'All were delivered.', oc_log_none: 'Nothing has been sent yet.', oc_log_empty: 'No message.', oc_when: 'When', oc_why: 'Why', oc_to_whom: 'To whom',
    oc_subject: 'Subject', oc_acked: 'Acknowledged', oc_retry: 'retry at {at}', oc_attempts: '{n} attempts',
    oc_why_opened: 'Page (opened)', oc_why_escalated: 'Escalation', oc_why_assigned: 'Reassignment', oc_why_repeated: 'Repeat', oc_why_priority: 'Priority raised',
    oc_why_sla_warning: 'SLA warning', oc_why_sla_breach: 'SLA breached', oc_why_major_proposed: 'Major incident proposed',
    oc_why_major_accepted: 'Major incident accepted', oc_why_shift: 'Duty starting', oc_why_plan_not_shipped: 'Plan not shipped',
    oc_why_plan_late: 'Plan late', oc_why_coverage: 'Low coverage',
    preparation: 'Readiness', rd_answer: '{ontime} sites of {total} ready in time.', rd_late: '{n} late.',
    rd_none_late: 'None late.', rd_ready: '{n} ready already.', rd_blocked: '{n} root cause(s) hold up {held} task(s).',
    rd_none_blocked: 'Nothing is blocked.', rd_blockers: 'Root causes', rd_no_reason: 'no reason given',
    rd_holds: '(holds up {n} task(s) · {owner})', rd_sites: 'Sites', rd_done: 'Done', rd_ready_at: 'Ready on (projected)',
    rd_deadline: 'Deadline', rd_is_late: 'Late', rd_n_blocked: '{n} blocked task(s)', rd_on_time: 'On time',
    rd_images: 'Image compliance', rd_images_bad: '{n} computer(s) do not run the image their zone requires.',
    rd_images_ok: 'Every imaged computer runs its zone’s image.', rd_computer: 'Computer', rd_zone: 'Zone',
    rd_runs: 'Runs', rd_required: 'Required', rd_all_sites: 'All sites',
    rd_site_ready: 'Ready on {at} (projected).', rd_site_done: 'Ready.', rd_site_late: 'After the deadline of {deadline}.',
    rd_site_on_time: 'Before the deadline of {deadline}.', rd_site_done_share: '{pct} done ({done} tasks of {n}).',
    rd_site_roots: '{n} root cause(s): {names}.', rd_root: 'Root cause', rd_timeline: 'Task timeline',
    rd_timeline_legend: 'Green: done · blue: in progress · red: blocked · orange: held up by a block · grey: to do; thick frame: critical path.',
    rd_st_todo: 'To do', rd_st_in_progress: 'In progress', rd_st_blocked: 'Blocked', rd_st_done: 'Done', rd_st_verified: 'Verified',
    rd_plan: 'plan {id}', rd_shipped: 'shipped on {at}', rd_plan_route: 'from {from} to {to}', rd_why_blocked: 'Why is the task blocked?',
    rd_moved: '{name}: {status}', rd_force: 'Force (it will be journalled)', rd_do_in_progress: 'Start',
    rd_do_done: 'Finish', rd_do_blocked: 'Block…', rd_do_verified: 'Verify',
    rd_pcs: '{n} computer(s):', rd_pc_failing: 'in service but failing', rd_pc_in_depot: 'in the depot', rd_pc_delivered: 'delivered',
    rd_my_tasks: 'My tasks until tonight ({n})', rd_owner_tasks: 'An owner’s tasks until tonight', rd_owner: 'Owner',
    rd_task: 'Task', rd_start: 'Start (projected)', rd_nothing_today: 'Nothing to start by tonight.',
    rd_moved_by: 'by {by} on {at}', rd_what_proves: 'What proves it (signed report, photo…)?', rd_evidence: 'Evidence: {what}', rd_by_trade: 'By trade', rd_by_owner: 'By owner', rd_trade: 'Trade', rd_tasks_done: 'Tasks done',
    rd_n_late: '{n} late task(s)', rd_after: 'After: {names}',
    rd_trade_furniture: 'Furniture', rd_trade_power: 'Power', rd_trade_network: 'Network', rd_trade_delivery: 'Delivery',
    rd_trade_installation: 'Installation', rd_trade_imaging: 'Imaging', rd_trade_tests: 'Tests', rd_trade_results: 'Results',
    rd_all_zones: 'All zones', rd_printed: 'Printed on {at}', rd_on_map: 'See on the map', rd_on_wall: 'Wall in readiness mode', mode_health: 'Live health', mode_readiness: 'Readiness', rd_map_line: 'Readiness: {pct} done, {state}',
    rd_ready_by: 'ready on {at}', rd_open_timeline: 'Site timeline', rd_wall_title: 'Venue readiness',
    rd_wall_answer: '{ontime} sites of {total} ready in time', rd_at_risk_legend: 'at risk: in time, but a task blocked or late',
    rd_late_deliveries: 'Late deliveries', rd_delays: '(delays {n} task(s))', rd_delayed: 'delayed by {name}',
    rd_expected: 'expected on {at}', rd_overdue: 'expected on {at}: LATE',
    rd_pc_installed: 'installed', rd_pc_imaged: 'imaged', rd_pc_tested: 'tested', rd_pc_in_service: 'in service',
    plan: 'Plan', plan_committed: 'Committed', plan_shipped: 'Shipped', plan_received: 'Received', plan_cancelled: 'Cancelled',
    purpose_reinforce: 'reinforcement', purpose_deploy: 'deployment', confirm_yes: 'Confirm', confirm_no: 'No',
    ask_ship: 'Ship {id} to {to}? The stock leaves its origins.', ask_receive: 'Receive {id} at {to}? The stock enters it.',
    ask_cancel: 'Cancel {id}? Its reservations and vehicles are released.',
    done_ship: '{id} shipped to {to}', done_receive: '{id} received at {to}', done_cancel: '{id} cancelled',
    not_found: 'Not found', forbidden_page: 'Your role does not give access to this page.',
    not_found_page: 'This page does not exist.', back_home: 'Back to the start page',
    err_invalid: 'Refused', err_signed_out: 'Session ended: sign in again', err_conflict: 'Conflict',
    err_too_large: 'Too large', err_throttled: 'Too many attempts: wait', err_unavailable: 'Service unavailable for now: try again',
    vk_truck: 'truck(s)', vk_bus: 'bus(es)', vk_light: 'light vehicle(s)', role_persons: 'persons', role_kit: 'kit',
    by_origin: 'By origin', pickup: 'Pick-up', picks_up: 'pick up {n} persons at {at}', brings: 'bring {items}',
    travel: 'Travel', incoming: 'On its way', surplus: 'Surplus', uncovered: 'Uncovered', uncovered_need: 'Uncovered need',
    suf_short: 'short', suf_covered: 'Need covered',
    suf_detail: 'Unit: {unit} · allowance {per} per person · {persons} persons engaged · need {need} · serviceable or on its way {supply} ({pct})',
    suf_net: 'The total nets organisations out: {short}; {surplus}.',
    suf_net_short: 'short at {list}', suf_net_surplus: 'surplus at {list}',
    suf_sites: '{n} site(s) whose need their organisation does not cover (ringed on the map).',
    covered_all: 'Everything is covered.', reinforce_this: 'Reinforce this site',
    ring_legend: 'Need the organisation does not cover', all_covered_here: 'No uncovered need here.',
  },
};

/** @type {Record<'fr' | 'en', Record<string, string>>} */
const STATES = {
  fr: { OK: 'OK', WARNING: 'Signaux faibles', CRITICAL: 'Erreur', MAINTENANCE: 'Maintenance', UNKNOWN: 'Inconnu', UNREACHABLE: 'Injoignable',
    // Readiness (the map's and the wall's readiness mode).
    R_LATE: 'En retard', R_AT_RISK: 'À risque', R_ON_TIME: 'À temps', R_READY: 'Prêt' },
  en: { OK: 'OK', WARNING: 'Weak signals', CRITICAL: 'Error', MAINTENANCE: 'Maintenance', UNKNOWN: 'Unknown', UNREACHABLE: 'Unreachable',
    R_LATE: 'Late', R_AT_RISK: 'At risk', R_ON_TIME: 'On time', R_READY: 'Ready' },
};

/** @type {'fr' | 'en'} */
export let lang = localStorage.getItem('vigie.lang') === 'en' ? 'en' : 'fr';

/** @param {string} l */
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'fr';
  localStorage.setItem('vigie.lang', lang);
  document.documentElement.lang = lang;
}

/** @param {string} key @returns {string} */
export function t(key) {
  return dict[lang][key] ?? dict.fr[key] ?? key;
}

/**
 * A sentence with parameters: `{name}` in the text is replaced by `params.name`.
 * @param {string} key @param {Record<string, unknown>} params
 */
export function tf(key, params) {
  return fill(t(key), params);
}

// The server's error codes (vigie-app's `Reason`, vigie-import's `Problem`), said in French with their parameters.
// In English the server's own words are shown; a code the UI does not know falls back to its kind's sentence.
/** @type {Record<string, string>} */
const ERRORS = {
  not_found: 'Introuvable', 'not_found.plan': 'Plan {id} introuvable', 'not_found.site': 'Site {id} introuvable',
  'not_found.item': 'Article {id} introuvable', 'not_found.organisation': 'Organisation {id} introuvable',
  'not_found.incident': 'Incident {id} introuvable', 'not_found.check': 'Contrôle {id} introuvable',
  'not_found.window': 'Fenêtre de maintenance {id} introuvable', 'not_found.user': 'Utilisateur {id} introuvable',
  'not_found.token': 'Jeton {id} introuvable', 'not_found.force': 'Force {id} introuvable', 'not_found.vehicle': 'Véhicule {id} introuvable',
  forbidden: 'Accès refusé', 'forbidden.permission': 'Accès refusé : il faut la permission « {permission} », que votre rôle ne donne pas',
  'forbidden.everywhere': 'Accès refusé : il faut la permission « {permission} » sur toutes les organisations',
  'forbidden.check': 'Accès refusé : le contrôle {check} est hors de votre périmètre',
  'forbidden.outside': 'Accès refusé : {kind} {id} est hors de votre organisation ; demandez au centre stratégique',
  'forbidden.plan_reach': 'Accès refusé : le plan {plan} touche des sites hors de votre organisation ; le centre stratégique l’engage',
  'forbidden.assignment_group': 'Accès refusé : {who} ne traite que les incidents affectés à son groupe de support',
  'forbidden.import': 'Accès refusé : le fichier touche des données hors de votre périmètre ; rien n’a été importé',
  'forbidden.own_report': 'Le rapport {id} ne peut être approuvé par qui l’a rédigé : une autre personne habilitée doit l’approuver',
  'conflict.report': 'Le rapport {id} (version {version}, {status}) ne peut pas recevoir cette décision',
  'exercise.not_running': 'L’exercice {id} n’est plus en cours : rien n’a été fait (quittez-le ou démarrez-en un autre)',
  'exercise.from_live': 'Les exercices se pilotent depuis le Vigie réel : quittez d’abord l’exercice',
  'exercise.too_many': 'Trop d’exercices en cours (au plus {max}) : terminez-en un d’abord',
  'exercise.session': 'Cette session d’exercice n’est plus valable : rejoignez l’exercice à nouveau',
  'unavailable.replays': 'Des rapports du passé sont en cours de calcul : réessayez dans quelques secondes',
  conflict: 'Conflit : l’état actuel ne le permet pas', 'conflict.stale': 'L’enregistrement a changé depuis votre lecture : rechargez puis recommencez',
  'conflict.final': '{number} est clos : seules des notes peuvent y être ajoutées',
  'conflict.nothing_to_acknowledge': 'Le contrôle {check} n’a pas de problème confirmé à acquitter',
  'conflict.predecessors': 'La tâche {task} attend {waiting_for} : terminez-les d’abord, ou forcez (c’est journalisé)',
  'conflict.transition': 'Tâche {task} : ce mouvement n’est pas possible ({why})', 'not_found.task': 'Tâche {id} introuvable',
  'forbidden.task': 'Accès refusé : la tâche {task} appartient à {owner} ; seul son responsable (ou le centre) la fait avancer',
  'unavailable.not_leader': 'Bascule de nœud en cours ; rien n’a été écrit : réessayez', 'unavailable.no_leader': 'Bascule de nœud en cours ; rien n’a été écrit : réessayez',
  'unavailable.leader': 'Le nœud principal ne répond pas ; rien n’a été écrit : réessayez',
  'unavailable.leader_lost': 'Le nœud principal s’est arrêté pendant la requête : vérifiez avant de recommencer',
  unavailable: 'Service momentanément indisponible : réessayez', 'unavailable.journal': 'Le journal ne peut pas écrire pour l’instant ; rien n’a été écrit : réessayez',
  'unavailable.stopping': 'Le serveur s’arrête : réessayez dans un instant',
  too_many_requests: 'Trop de tentatives : réessayez dans {retry_after_s} s', invalid: 'Données refusées ; rien n’a été écrit',
  bad_request: 'Requête refusée : vérifiez les champs', unauthenticated: 'Session terminée : reconnectez-vous',
  unsupported_media_type: 'Requête refusée (type de contenu)', payload_too_large: 'Trop volumineux', method_not_allowed: 'Opération non permise',
  timeout: 'Délai dépassé : réessayez', internal: 'Erreur interne du serveur (détail dans son journal)',
  'invalid.field': 'Champ « {field} » refusé',
  'import.required': 'Colonne « {column} » : valeur obligatoire', 'import.number': '« {column} » : nombre attendu (virgule ou point décimal), trouvé « {found} »',
  'import.below': '« {column} » ne peut être inférieur à {min} (trouvé {found})', 'import.negative': '« {column} » ne peut être négatif (trouvé {found})',
  'import.count': '« {column} » : nombre entier positif attendu, trouvé « {found} »', 'import.date': '« {column} » : date attendue AAAA-MM-JJ ou JJ/MM/AAAA, trouvé « {found} »',
  'import.unknown_ref': '{what} inconnu(e) : {id} (colonne « {column} »)', 'import.column_twice': 'La colonne « {column} » apparaît deux fois',
  'import.empty_file': 'Fichier vide : une ligne d’en-tête est attendue', 'import.unknown_table': '« {name} » ne désigne aucune table connue',
  'import.id': '« {column} » : identifiant refusé « {found} »', 'import.more': '… et {n} autre(s) problème(s)', 'import.choice': '« {column} » : valeur inconnue « {found} »',
};
// Kinds of record named in the parameters above.
/** @type {Record<string, string>} */
const KINDS_FR = { site: 'le site', item: 'l’article', organisation: 'l’organisation', organization: 'l’organisation', force: 'la force',
  vehicle: 'le véhicule', plan: 'le plan', incident: 'l’incident', check: 'le contrôle', user: 'l’utilisateur' };
/** @type {Record<string, string>} */
const WHAT_FR = { site: 'Site', item: 'Article', organisation: 'Organisation', organization: 'Organisation', force: 'Force', vehicle: 'Véhicule' };

/**
 * What the server refused, in the user's language: its code with its parameters, else its kind (`error`), else the
 * status's meaning. English shows the server's own words.
 * @param {number} status @param {any} body
 */
export function explain(status, body) {
  if (lang === 'en' && body?.message) return String(body.message);
  /** @type {Record<number, string>} */
  const statuses = { 400: 'bad_request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'payload_too_large',
    415: 'unsupported_media_type', 422: 'invalid', 429: 'too_many_requests', 503: 'unavailable' };
  const byStatus = statuses[status];
  const key = [body?.code, body?.error, byStatus].find((k) => k && ERRORS[k]);
  if (!key) return lang === 'en' ? `HTTP ${status}` : `Erreur ${status}`;
  const params = { ...(body?.params || {}) };
  if (params.kind) params.kind = KINDS_FR[params.kind] ?? params.kind;
  return fill(ERRORS[key], params);
}

/** One located problem (an import's cell, a request's field) in the user's language. @param {any} p */
export function problemText(p) {
  const where = p.file ? (p.line ? `${p.file}:${p.line}:${p.column} : ` : `${p.file} : `) : '';
  if (lang === 'en') return `${where}${p.message}`;
  // A problem the UI has no words for is said by its place only (its English detail is one click away: EN).
  if (!p.code || !ERRORS[p.code]) return `${where}${ERRORS.invalid}`;
  const params = { ...(p.params || {}) };
  if (params.what) params.what = WHAT_FR[params.what] ?? params.what;
  return `${where}${fill(ERRORS[p.code], params)}`;
}

/** @param {string} text @param {Record<string, unknown>} params */
function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** How an ETA was estimated, from the answer's `eta_basis` (the detour factor it names kept). @param {string} basis */
export function etaBasis(basis) {
  if (lang === 'en' || !/great-circle/.test(String(basis))) return String(basis ?? '');
  const factor = /× ([\d.]+)/.exec(basis)?.[1];
  const speed = /at ([\d.]+) km\/h/.exec(basis)?.[1];
  return `estimation : distance à vol d’oiseau × ${num(factor ?? 1.3, 2)} à la vitesse routière${speed ? ` (${num(speed, 0)} km/h)` : ''}, sans réseau routier chargé`;
}

/** @param {string} s */
export function stateLabel(s) {
  return STATES[lang][s] ?? s;
}

const locale = () => (lang === 'fr' ? 'fr-FR' : 'en-GB');

/** A number the French way (narrow no-break space, decimal comma) or the English way; quantities keep their
 * decimals (7,5), up to three. */
/** @param {unknown} n @param {number} [digits] */
export function num(n, digits = 3) {
  if (n === null || n === undefined || n === '') return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(Number(n));
}

/** @param {number | null | undefined} x */
export function pct(x) {
  if (x === null || x === undefined) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(x);
}

/** An instant in Europe/Paris. @param {string | null | undefined} iso */
export function time(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(locale(), {
    timeZone: 'Europe/Paris', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).format(new Date(iso));
}

/** How long ago, in words. @param {string | null | undefined} iso */
export function ago(iso) {
  if (!iso) return '—';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (Math.abs(s) < 90) return rtf.format(-s, 'second');
  if (Math.abs(s) < 5400) return rtf.format(-Math.round(s / 60), 'minute');
  if (Math.abs(s) < 172800) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86400), 'day');
}

/** Minutes as "4 h 28" or "35 min". @param {number | null | undefined} m */
export function minutes(m) {
  if (m === null || m === undefined) return '—';
  const h = Math.floor(m / 60);
  const r = Math.round(m % 60);
  if (r === 60) return `${h + 1} h`;
  if (h > 0) return r ? `${h} h ${String(r).padStart(2, '0')}` : `${h} h`;
  return `${r} min`;
}

/** An arrival `m` minutes from now as a Paris clock time, with the duration: "17:12 (dans 10 h 48)"; the day is
 * added when it is not today. */
export function arrival(/** @type {number | null | undefined} */ m) {
  if (m === null || m === undefined) return '—';
  const at = new Date(Date.now() + m * 60000);
  const day = (/** @type {Date} */ d) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(d);
  const clock = new Intl.DateTimeFormat(locale(), {
    timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit',
    ...(day(at) === day(new Date()) ? {} : { weekday: 'short', day: 'numeric' }),
  }).format(at);
  return `${clock} (${lang === 'fr' ? 'dans' : 'in'} ${minutes(m)})`;
}

/** Today in Paris, YYYY-MM-DD. */
export function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}
