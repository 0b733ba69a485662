"""French demo content: accounts of the four families, threads and reply trees.

``flask forum seed-demo`` calls :func:`seed`. Everything goes through the services the web pages
use (registration, profile, thread, reply), so counters and rendered HTML are what real use
would produce; only the dates are rewritten afterwards, so that each thread reads as if it had
been written over the past weeks. The passwords are fixed and meant for local use only.

Each thread is ``(theme slug, author, title, body, replies)``; each reply is
``(parent, author, text)`` where ``parent`` is 0 for the opening post and ``n`` for the n-th
reply of the list. Texts are Markdown blocks, dedented and unwrapped by :func:`_markdown`.
"""

from __future__ import annotations

import random
import re
import textwrap
from datetime import datetime, timedelta

from sqlalchemy import func, select

from forum.accounts import services as accounts
from forum.accounts.models import Family, Role, User
from forum.db import utcnow
from forum.directory import demo as directory_demo
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db

ADMIN_USERNAME = "coordination-rs"

PASSWORDS = {
    Role.ADMIN: "demo-admin-2026",
    Role.MODERATOR: "demo-moderation-2026",
    Role.MEMBER: "demo-membre-2026",
}

#: (username, role, family, display name, organisation, territory, bio)
USERS = [
    (
        ADMIN_USERNAME,
        Role.ADMIN,
        Family.ESS,
        "Claire Dumas (coordination)",
        "Rencontres sociales, équipe d'animation du réseau",
        "Paris 20e",
        """
        J'anime le réseau des Rencontres sociales et je prépare le séminaire du 31 mars. Une
        question sur le forum ou sur le réseau ? Écrivez-moi.
        """,
    ),
    (
        "nadia.mediation",
        Role.MODERATOR,
        Family.CITOYEN,
        "Nadia Benali",
        "Association des habitant·es des Tilleuls",
        "Lyon 8e",
        """
        Médiatrice sociale de métier, bénévole dans une association d'habitant·es. Je modère le
        forum avec bienveillance : on peut être en désaccord sans se manquer de respect.
        """,
    ),
    (
        "yannick-ul",
        Role.MODERATOR,
        Family.SYNDICAL,
        "Yannick Le Goff",
        "Union locale syndicale de Saint-Nazaire",
        "Loire-Atlantique",
        """
        Militant syndical depuis vingt ans, ancien élu CHSCT dans la métallurgie, aujourd'hui à
        l'union locale. J'aide les élu·es de CSE à s'y retrouver.
        """,
    ),
    (
        "camille-scop",
        Role.MEMBER,
        Family.ESS,
        "Camille Roux",
        "SCOP Bois & Compagnie, menuiserie",
        "Die, Drôme",
        """
        Cogérante d'une SCOP de menuiserie de 14 salarié·es associé·es. Convaincue que la
        coopération, ça s'apprend en la pratiquant.
        """,
    ),
    (
        "karim.cse",
        Role.MEMBER,
        Family.SYNDICAL,
        "Karim Haddad",
        "CSE de TransAgglo, réseau de bus de l'agglomération",
        "Métropole lilloise",
        """
        Conducteur de bus et secrétaire du CSE. Je cherche à faire entrer plus d'économie sociale
        et solidaire dans nos activités sociales et culturelles.
        """,
    ),
    (
        "elue-montreuil",
        Role.MEMBER,
        Family.TERRITOIRES,
        "Hélène Martin",
        "Ville de Montreuil, adjointe à la démocratie locale",
        "Montreuil, Seine-Saint-Denis",
        """
        Adjointe en charge de la démocratie locale et de l'économie sociale. J'écris ici en mon
        nom, pour apprendre des autres territoires.
        """,
    ),
    (
        "sophie.mutuelle",
        Role.MEMBER,
        Family.ESS,
        "Sophie Lambert",
        "Mutuelle Entraide Santé, service prévention",
        "Clermont-Ferrand",
        """
        Chargée de prévention dans une mutuelle santé. Je travaille avec des entreprises et des CSE
        sur la santé au travail et la complémentaire santé.
        """,
    ),
    (
        "marc.cc3v",
        Role.MEMBER,
        Family.TERRITOIRES,
        "Marc Delorme",
        "Communauté de communes des Trois Vallées",
        "Livradois, Puy-de-Dôme",
        """
        Chargé de mission développement local dans une communauté de communes rurale de 32
        communes. Services publics, coopératives, circuits courts : tout ce qui fait tenir un
        territoire.
        """,
    ),
    (
        "fatou-regie",
        Role.MEMBER,
        Family.ESS,
        "Fatou Diallo",
        "Régie de quartier Villette-Quatre-Chemins",
        "Aubervilliers, Seine-Saint-Denis",
        """
        Directrice d'une régie de quartier : 60 salarié·es, presque tou·tes habitant·es du
        quartier. Entretien, lien social, insertion : on fait tout ça en même temps.
        """,
    ),
    (
        "jb.habitat",
        Role.MEMBER,
        Family.CITOYEN,
        "Jean-Baptiste Morel",
        "Coopérative d'habitants Le Grand Chêne",
        "Villeurbanne",
        """
        Habitant-coopérateur depuis trois ans. Ancien enseignant, je m'occupe de la commission
        finances de notre coopérative (et de la buanderie commune).
        """,
    ),
    (
        "lucie-tierslieu",
        Role.MEMBER,
        Family.TERRITOIRES,
        "Lucie Garnier",
        "La Fabrique du Bocage, tiers-lieu en SCIC",
        "Mayenne",
        """
        Coordinatrice d'un tiers-lieu rural : atelier partagé, légumerie, café associatif et
        permanence France services. Je viens partager ce qui marche… et ce qui rate.
        """,
    ),
    (
        "theo.mobilite",
        Role.MEMBER,
        Family.CITOYEN,
        "Théo Bernard",
        "Collectif Bougeons en Brie, usager·es des transports",
        "Seine-et-Marne",
        """
        Usager des cars et du RER, je me bats avec un collectif d'habitant·es pour des transports
        dignes de ce nom dans le périurbain.
        """,
    ),
]

THREADS = [
    # -- Services publics ---------------------------------------------------------------------
    (
        "services-publics",
        "marc.cc3v",
        "Maisons France services : vrai service public ou guichet au rabais ?",
        """
        Notre communauté de communes porte depuis 2022 deux **maisons France services**, plus un
        bus itinérant qui passe dans les petites communes. Trois ans après, je voudrais faire un
        bilan honnête avec vous, parce que les avis sont très partagés autour de moi.

        Ce que l'on voit au quotidien :

        - environ 900 demandes par mois, surtout CAF, retraite, impôts, carte grise et titres
          d'identité ;
        - un public souvent âgé ou peu à l'aise avec le numérique, mais aussi beaucoup de jeunes
          ménages sans imprimante ni scanner ;
        - des agentes très investies et formées, qui ne peuvent pourtant pas tout régler sur place.

        Dans le même temps, la trésorerie a fermé, l'accueil de la CAF ne reçoit plus que sur
        rendez-vous à 40 km, et le bureau de poste du bourg a réduit ses horaires.

        Alors, **France services : vrai service public de proximité, ou guichet au rabais qui
        accompagne le retrait des administrations ?** J'aimerais entendre les élu·es, les
        syndicalistes, les usager·es. Pour rappel, le dispositif national est présenté ici :
        https://www.france-services.gouv.fr
        """,
        [
            (
                0,
                "yannick-ul",
                """
                Je vais être franc : pour nous, France services, c'est d'abord l'habillage d'un
                recul. Les guichets spécialisés ferment, et on demande à deux agent·es
                polyvalent·es de remplacer des dizaines de métiers différents. Dans beaucoup de
                structures, ce sont des contrats courts, payés au minimum, sans véritable accès aux
                dossiers. Ça n'enlève rien au dévouement des collègues, au contraire : on leur fait
                porter une charge qui devrait être celle de l'État.
                """,
            ),
            (
                1,
                "marc.cc3v",
                """
                Je comprends la critique, mais chez nous les agentes sont titulaires de la fonction
                publique territoriale et ont suivi les formations des partenaires nationaux. Là où
                je te rejoins, c'est sur l'accès aux dossiers : elles passent par des « référents »
                dans chaque organisme. Quand le référent répond vite, tout va bien. Quand il ne
                répond pas, c'est l'usager qui attend.
                """,
            ),
            (
                2,
                "yannick-ul",
                """
                C'est exactement ce que me racontent les camarades des CAF : les référents ont ce
                travail en plus de tout le reste, sans moyens supplémentaires. Du coup l'usager
                revient deux, trois fois. Tu as des chiffres sur la part des demandes réglées dès
                le premier passage ?
                """,
            ),
            (
                3,
                "marc.cc3v",
                """
                On estime qu'environ 70 % des demandes sont réglées au premier passage ; le reste
                est orienté vers l'organisme concerné. Mais honnêtement, on ne sait pas ce que
                deviennent ces 30 % : personne ne suit le dossier après l'orientation. C'est un
                angle mort, et je pense que c'est là que se perdent les personnes les plus
                fragiles.
                """,
            ),
            (
                4,
                "sophie.mutuelle",
                """
                On voit le même angle mort à la mutuelle. Des adhérent·es arrivent avec une demande
                de complémentaire santé solidaire commencée ailleurs, sans savoir où elle en est.
                Une piste : un **suivi partagé** entre France services et les organismes, avec
                l'accord explicite de la personne, pour qu'elle n'ait pas à tout raconter à chaque
                guichet.
                """,
            ),
            (
                5,
                "nadia.mediation",
                """
                Attention quand même au partage de données. Les personnes que j'accompagne en
                médiation ont souvent peur que « tout le monde sache tout » : la CAF, les impôts,
                le bailleur… Si on veut un suivi partagé, il doit être compréhensible, réversible,
                et la personne doit garder la main. Sinon on perdra la confiance, qui est la seule
                chose qui fait revenir les gens.
                """,
            ),
            (
                6,
                "sophie.mutuelle",
                """
                Entièrement d'accord. Dans un projet pilote, nous avons testé un simple **carnet de
                suivi papier** que la personne garde avec elle : les étapes, les contacts, les
                pièces déjà fournies. Pas de base de données, pas de transfert automatique. C'est
                modeste, mais les gens s'en servent et le montrent d'un guichet à l'autre.
                """,
            ),
            (
                7,
                "yannick-ul",
                """
                Le carnet, c'est une bonne idée, et je la retiens pour l'union locale. Mais ne
                perdons pas de vue le fond : si on a besoin d'un carnet pour circuler entre les
                guichets, c'est qu'il y a trop peu d'agent·es derrière. Je propose qu'on porte
                ensemble la question des **effectifs des organismes** au séminaire du 31 mars, pas
                seulement celle des outils.
                """,
            ),
            (
                0,
                "jb.habitat",
                """
                Un témoignage d'usager, pour changer un peu de point de vue. L'an dernier, ma mère
                a dû faire valoir sa pension de réversion après le décès de mon père, et c'est
                l'agente de France services qui a tout débloqué, en prenant le temps. Je n'ai rien
                vu « au rabais » là-dedans. Par contre, l'antenne de son village n'ouvre que deux
                matinées par semaine, et il faut souvent revenir.
                """,
            ),
            (
                9,
                "marc.cc3v",
                """
                Merci pour ce témoignage, ça fait du bien à l'équipe. Pour les villages, nous avons
                mis en place un **bus France services** qui passe dans 14 communes selon un
                calendrier fixe. Ce n'est pas parfait, mais ça évite à beaucoup de personnes âgées
                de faire 30 km.
                """,
            ),
            (
                10,
                "theo.mobilite",
                """
                Le bus itinérant, c'est bien, à condition de pouvoir se rendre à l'arrêt le bon
                jour. Chez nous, en Seine-et-Marne, le bus vient le mardi matin… et le transport à
                la demande ne circule pas le mardi matin. Avez-vous pensé à caler les deux
                calendriers ?
                """,
            ),
            (
                11,
                "marc.cc3v",
                """
                Non, et c'est une très bonne remarque : les deux services dépendent de deux équipes
                différentes chez nous, et personne n'a croisé les plannings. Je le mets à l'ordre
                du jour de notre prochain comité de pilotage. Merci !
                """,
            ),
            (
                0,
                "elue-montreuil",
                """
                On parle beaucoup de ruralité, mais les maisons France services existent aussi dans
                les quartiers populaires des villes. En ville, la difficulté n'est pas la distance,
                c'est la saturation : les files d'attente, les rendez-vous pris trois semaines à
                l'avance. Nous avons fait le choix de garder un accueil **sans rendez-vous** chaque
                matin, même si c'est épuisant pour les équipes.
                """,
            ),
            (
                13,
                "fatou-regie",
                """
                À Aubervilliers, c'est la régie de quartier qui accueille une permanence d'accès
                aux droits, deux après-midi par semaine. Ce sont deux médiatrices qui habitent le
                quartier et parlent soninké, arabe ou tamoul selon les jours. Les gens viennent
                parce qu'ils les connaissent. Mais ce travail n'est financé que par des appels à
                projets d'un an.
                """,
            ),
            (
                14,
                "elue-montreuil",
                """
                C'est un vrai sujet. La politique de la ville finance beaucoup à l'année, alors que
                ce travail de confiance met des années à se construire. Comment faites-vous pour
                garder les médiatrices quand un financement s'arrête ?
                """,
            ),
            (
                15,
                "fatou-regie",
                """
                Honnêtement, on bricole : on bascule une partie de leur temps sur d'autres
                activités de la régie en attendant le prochain appel à projets. Ce que nous
                demandons, c'est une **convention pluriannuelle d'objectifs** sur trois ans, avec
                une évaluation partagée. On ne demande pas plus d'argent, on demande de la
                visibilité.
                """,
            ),
            (
                16,
                "coordination-rs",
                """
                Ce besoin de financements pluriannuels revient dans presque tous les échanges du
                réseau. Je propose d'en faire un atelier au séminaire du 31 mars, avec des élu·es
                et des financeurs dans la salle. Fatou, seriez-vous d'accord pour venir témoigner ?
                """,
            ),
            (
                17,
                "fatou-regie",
                """
                Avec plaisir. Je viendrai avec une des médiatrices, c'est elle qui en parle le
                mieux. Il faudra juste qu'elle trouve une solution de garde pour ses enfants ce
                jour-là : est-ce que le réseau peut prendre en charge ce genre de frais ?
                """,
            ),
            (
                18,
                "nadia.mediation",
                """
                Bonne question, et elle devrait être posée systématiquement : participer a un coût,
                et ce sont toujours les mêmes qui ne peuvent pas venir. Je remonte la demande à
                l'équipe d'organisation et je vous réponds dans le fil consacré au séminaire.
                """,
            ),
            (
                0,
                "karim.cse",
                """
                Je voudrais parler aussi de **La Poste**, parce que c'est souvent le même
                mouvement. Dans notre agglomération, trois bureaux ont été transformés en agences
                postales communales ou en relais chez des commerçants. Pour les postier·es, ce sont
                des postes supprimés ; pour les usager·es, c'est moins de services : pas de conseil
                bancaire, des horaires limités.
                """,
            ),
            (
                20,
                "marc.cc3v",
                """
                Côté commune, une agence postale communale n'est pas gratuite non plus : La Poste
                verse une indemnité mensuelle, mais elle ne couvre pas le salaire de l'agent·e. On
                finance avec les impôts locaux un service qui relevait d'une entreprise publique.
                Beaucoup de maires l'acceptent, faute de mieux.
                """,
            ),
            (
                21,
                "camille-scop",
                """
                Je vais nuancer un peu. Dans notre village, le relais poste est installé dans
                l'épicerie coopérative, et c'est ce qui a sauvé l'épicerie : les gens viennent
                chercher un colis et achètent leur pain. Et le relais est ouvert jusqu'à 19 h,
                samedi compris, ce que le bureau ne faisait plus depuis longtemps.
                """,
            ),
            (
                22,
                "karim.cse",
                """
                Je suis content pour votre épicerie, sincèrement. Mais un relais commerçant ne peut
                pas tout faire : les recommandés sensibles, la confidentialité, et surtout les
                services bancaires pour les personnes dont le seul compte est un Livret A à la
                Banque postale. Ces personnes-là n'ont pas à dépendre d'une épicerie, même
                coopérative.
                """,
            ),
            (
                23,
                "camille-scop",
                """
                Tu as raison sur les services bancaires, c'est un vrai manque. Mais chez nous,
                l'alternative n'était pas entre le bureau de poste et le relais : c'était entre le
                relais et rien du tout. On ne choisit pas toujours entre le bien et le moins bien ;
                parfois, c'est entre le moins bien et le vide.
                """,
            ),
            (
                1,
                "lucie-tierslieu",
                """
                Dans notre tiers-lieu, nous accueillons une permanence France services au milieu de
                l'atelier partagé et du café. Ça change le rapport au lieu : les gens ne viennent
                pas « au guichet », ils viennent boire un café et en profitent pour poser leur
                question. Je partage pourtant ta crainte, Yannick : nous ne devons pas devenir le
                paravent des fermetures.
                """,
            ),
            (
                0,
                "nadia.mediation",
                """
                Petite synthèse de modération à mi-parcours, pour celles et ceux qui arrivent dans
                le fil :

                - **ce qui fait consensus** : la qualité de l'accueil humain, et le fait que les
                  agent·es ne peuvent pas compenser seul·es le recul des organismes ;
                - **ce qui fait débat** : France services comme progrès de proximité ou comme
                  paravent des fermetures ;
                - **les pistes concrètes** : un suivi partagé avec l'accord des personnes, des
                  calendriers croisés avec le transport à la demande, des financements pluriannuels
                  pour la médiation.

                Continuez à apporter vos expériences, elles nourriront l'atelier du 31 mars.
                """,
            ),
        ],
    ),
    (
        "services-publics",
        "sophie.mutuelle",
        "Mutuelles et santé au travail : ce que les CSE peuvent vraiment faire",
        """
        Je travaille en prévention dans une mutuelle santé, et je constate que beaucoup d'élu·es de
        CSE se sentent démuni·es face à la complémentaire santé et à la prévoyance de leur
        entreprise. Pourtant, ce sont des sujets qui touchent directement la santé des salarié·es.

        Quelques rappels pour lancer la discussion :

        1. le contrat collectif est mis en place par accord, par référendum ou par décision de
           l'employeur, mais le **CSE doit être informé et consulté** sur ses changements ;
        2. l'organisme assureur doit fournir chaque année un rapport sur les comptes du contrat
           (cotisations, prestations versées), que le CSE peut demander ;
        3. la prévention (troubles musculo-squelettiques, risques psychosociaux) peut être
           cofinancée par l'organisme.

        Quelles sont vos expériences ? Qu'est-ce qui vous a manqué pour peser ?
        """,
        [
            (
                0,
                "karim.cse",
                """
                Chez nous, la direction a changé d'organisme l'an dernier pour un grand assureur,
                12 % moins cher. Sur le papier, les garanties étaient équivalentes. Dans la
                réalité, les remboursements d'optique et de dentaire ont pris des semaines, et plus
                personne ne répond au téléphone. Le CSE n'a été consulté qu'une fois la décision
                prise.
                """,
            ),
            (
                1,
                "sophie.mutuelle",
                """
                C'est malheureusement fréquent, et c'est là que la différence entre une mutuelle et
                un assureur à but lucratif se voit : pas dans la plaquette, dans la gestion au
                quotidien. Votre CSE a-t-il pu obtenir le rapport annuel sur les comptes du contrat
                ? Il en dit long sur le rapport entre cotisations et prestations.
                """,
            ),
            (
                2,
                "karim.cse",
                """
                On l'a demandé trois fois avant de l'avoir, et une fois qu'on l'a eu, on n'a pas su
                le lire. C'est là qu'on aurait eu besoin d'aide.
                """,
            ),
            (
                3,
                "yannick-ul",
                """
                Deux pistes, Karim. D'abord, le CSE peut se faire assister par un expert-comptable
                pour la consultation sur la situation économique : demandez-lui d'analyser aussi
                les contrats de santé et de prévoyance. Ensuite, l'union locale organise des
                formations d'élu·es sur la protection sociale complémentaire ; la prochaine a lieu
                en mai, je te mets en lien.
                """,
            ),
            (
                0,
                "camille-scop",
                """
                Dans une SCOP, la question se pose autrement puisque les salarié·es sont aussi les
                associé·es : c'est l'assemblée générale qui a choisi notre mutuelle, après avoir
                comparé trois propositions. Nous avons surtout travaillé la **prévoyance**, parce
                qu'en menuiserie un arrêt long pour le dos arrive vite. La mutuelle a cofinancé des
                formations et l'achat de deux tables élévatrices.
                """,
            ),
            (
                5,
                "sophie.mutuelle",
                """
                C'est un bon exemple de ce qu'on peut faire quand la prévention est pensée avec les
                personnes qui travaillent. Les formations « gestes et postures » seules ont peu
                d'effet ; c'est l'aménagement des postes qui change vraiment les choses. Avez-vous
                mesuré l'effet sur les arrêts ?
                """,
            ),
            (
                6,
                "camille-scop",
                """
                Pas de façon scientifique, mais nous n'avons eu aucun arrêt long pour le dos depuis
                deux ans, contre trois les deux années précédentes. Et surtout, les plus ancien·nes
                disent qu'ils se voient finir leur carrière à l'atelier, ce qui n'était pas le cas
                avant.
                """,
            ),
            (
                0,
                "elue-montreuil",
                """
                Côté collectivités, la réforme de la protection sociale complémentaire des agent·es
                territoriaux nous oblige désormais à participer au financement de la prévoyance,
                puis de la santé. C'est une bonne nouvelle pour les agent·es, mais beaucoup de
                petites communes passeront par des conventions de participation négociées par les
                centres de gestion. Des mutuelles de l'ESS se positionnent-elles sur ces marchés ?
                """,
            ),
            (
                8,
                "sophie.mutuelle",
                """
                Oui, et c'est même un enjeu majeur pour nous : ces conventions sont très
                concurrentielles, et le prix l'emporte souvent. Nous essayons de faire valoir la
                solidarité entre générations et la gestion de proximité, mais il faut que les
                collectivités l'inscrivent dans leurs critères de choix.
                """,
            ),
            (
                9,
                "yannick-ul",
                """
                Et que les organisations syndicales soient réellement associées au choix : c'est
                prévu par les textes, encore faut-il que ce soit réel. Dans plusieurs centres de
                gestion, la consultation des représentant·es du personnel s'est faite en une
                réunion, avec un dossier remis la veille.
                """,
            ),
            (
                0,
                "nadia.mediation",
                """
                Une question pratique que posent souvent les habitant·es que j'accompagne : que
                devient la complémentaire quand on part à la retraite ou qu'on perd son emploi ?
                Beaucoup découvrent trop tard qu'ils ne sont plus couverts.
                """,
            ),
            (
                11,
                "sophie.mutuelle",
                """
                Deux situations différentes. En cas de perte d'emploi indemnisée, la
                **portabilité** permet de garder gratuitement la couverture de l'entreprise jusqu'à
                douze mois. Au départ à la retraite, on peut demander à conserver le contrat à
                titre individuel, avec des hausses de tarif encadrées les premières années. Le plus
                important : en faire la demande dans les six mois.
                """,
            ),
        ],
    ),
    (
        "services-publics",
        "theo.mobilite",
        "Mobilité en zone périurbaine : quand le car ne passe que deux fois par jour",
        """
        Dans notre coin de Seine-et-Marne, le car vers la gare RER passe à 6 h 40 et à 18 h 10.
        Entre les deux, rien. Si vous travaillez en horaires décalés, si vous avez un rendez-vous
        médical à 14 h, ou si vous avez 16 ans et pas de permis, vous dépendez de quelqu'un qui a
        une voiture.

        Avec notre collectif d'usager·es, nous avons recensé ce qui manque :

        - des cars aux **heures creuses**, même peu nombreux ;
        - un transport à la demande qu'on puisse réserver le jour même ;
        - des arrêts sécurisés, éclairés, avec un abri ;
        - une vraie place pour le vélo dans les cars et dans les gares.

        On nous répond toujours que « ça coûte trop cher pour si peu de voyageurs ». Mais s'il n'y
        a pas de voyageurs, c'est qu'il n'y a pas de cars. Comment sortir de ce cercle ? Avez-vous
        des expériences ailleurs ?
        """,
        [
            (
                0,
                "karim.cse",
                """
                Je conduis des bus dans une grande agglomération et je suis secrétaire du CSE. Il y
                a la question du budget, mais il y a aussi celle des conducteur·rices : on manque
                de monde partout. Les services en heures creuses, ce sont souvent des journées
                coupées en deux, avec trois heures d'attente non payées au milieu. Plus personne ne
                veut de ces plannings.
                """,
            ),
            (
                1,
                "theo.mobilite",
                """
                Je ne l'avais pas vu sous cet angle. Donc ajouter des cars à 11 h et à 15 h, ça
                veut dire des journées encore plus morcelées pour les chauffeur·es ? Il existe des
                solutions pour que ce soit tenable ?
                """,
            ),
            (
                2,
                "karim.cse",
                """
                Il y en a, mais elles se négocient. Chez nous, les délégué·es syndicaux ont obtenu
                que l'amplitude soit plafonnée et que la coupure soit en partie payée quand elle se
                fait loin du dépôt. On a aussi proposé des services mixtes : le midi, le conducteur
                fait du transport à la demande au lieu d'attendre. Un service public de qualité, ça
                passe aussi par de bonnes conditions de travail.
                """,
            ),
            (
                0,
                "marc.cc3v",
                """
                Depuis la loi d'orientation des mobilités, beaucoup de communautés de communes sont
                devenues autorités organisatrices ; c'est notre cas. Nous avons lancé un transport
                à la demande l'an dernier : quatre minibus, réservation la veille avant 17 h. Le
                coût par trajet est élevé, autour de 25 €, mais c'est le prix du droit à se
                déplacer.
                """,
            ),
            (
                4,
                "theo.mobilite",
                """
                La réservation la veille, c'est justement ce qui bloque pour les emplois précaires
                : quand l'agence d'intérim appelle à 7 h pour une mission à 8 h, le transport à la
                demande ne sert à rien. Une réservation le jour même serait-elle envisageable ?
                """,
            ),
            (
                5,
                "marc.cc3v",
                """
                Nous l'étudions sur une partie des créneaux. La difficulté, c'est de regrouper les
                trajets pour ne pas faire rouler un minibus pour une seule personne. Nous testons
                aussi, avec la mission locale, une aide au permis et la location de scooters pour
                les jeunes en insertion.
                """,
            ),
            (
                6,
                "lucie-tierslieu",
                """
                Chez nous, c'est un **garage solidaire** associatif qui loue des voitures et des
                scooters à petit prix aux personnes en insertion, et qui répare à prix coûtant.
                C'est de l'ESS qui comble un trou du service public, avec les limites que ça
                suppose, mais ça permet chaque année à des dizaines de personnes de garder leur
                emploi.
                """,
            ),
            (
                7,
                "jb.habitat",
                """
                Dans notre coopérative d'habitants, nous avons mutualisé deux voitures pour
                quatorze foyers, et nous dépannons les voisin·es pour les rendez-vous médicaux. Ça
                reste du bricolage entre gens qui se connaissent : ça ne remplacera jamais une
                ligne de car.
                """,
            ),
            (
                0,
                "elue-montreuil",
                """
                En ville aussi, la question des premiers et derniers kilomètres se pose, notamment
                pour les salarié·es qui commencent à 5 h dans la logistique ou le nettoyage. Les
                horaires des transports sont pensés pour les horaires de bureau ; celles et ceux
                qui travaillent la nuit ou très tôt sont les oublié·es. Théo, votre collectif
                a-t-il associé les employeurs de la zone ?
                """,
            ),
            (
                9,
                "theo.mobilite",
                """
                Pas encore, mais c'est une bonne idée : la zone d'activités voisine compte deux
                grosses plateformes logistiques qui peinent à recruter. Si elles ont du mal à
                trouver du personnel faute de transport, elles pourraient devenir nos alliées pour
                réclamer des cars.
                """,
            ),
        ],
    ),
    (
        "services-publics",
        "coordination-rs",
        "Séminaire « Rencontres sociales » du 31 mars : programme et inscriptions",
        """
        Le séminaire des **Rencontres sociales** aura lieu le **31 mars**, de 9 h 30 à 17 h 30, à
        l'Amphithéâtre Le d'Artagnan, 80 rue de Vitruve, 75020 Paris.

        La journée réunira les trois familles du réseau (économie sociale et solidaire, mouvement
        syndical, acteurs des territoires) ainsi que les citoyen·nes qui participent à nos débats.

        Programme provisoire :

        - **9 h 30** : accueil et café ;
        - **10 h** : plénière « Les services publics, affaire de toutes et tous » ;
        - **12 h 30** : déjeuner préparé par un traiteur d'insertion ;
        - **14 h** : trois ateliers en parallèle, un par thème du forum (services publics, urbain,
          développement local) ;
        - **16 h 30** : restitution et suites.

        Nous voulons que les ateliers partent de **vos questions** : proposez-les dans ce fil, nous
        les regrouperons avant la journée. L'amphithéâtre est accessible en fauteuil ; dites-nous
        si vous avez besoin d'une interprétation en LSF ou d'un autre aménagement.

        > Un débat ne vaut que par celles et ceux qui y prennent la parole.

        L'inscription est gratuite mais obligatoire : écrivez à rencontres@exemple.org ou répondez
        ici.
        """,
        [
            (
                0,
                "fatou-regie",
                """
                Nous serons trois de la régie de quartier, dont une médiatrice qui témoignera à
                l'atelier sur les financements. Une question pratique, déjà posée dans le fil sur
                France services : le réseau peut-il prendre en charge des frais de garde d'enfants
                pour les participant·es qui en ont besoin ?
                """,
            ),
            (
                1,
                "coordination-rs",
                """
                Oui : l'équipe a décidé de prendre en charge les frais de garde et de transport des
                participant·es qui en ont besoin, sur simple demande. Nous ouvrirons aussi un
                espace enfants sur place, animé par une association du 20e arrondissement. Merci à
                Fatou et à Nadia d'avoir soulevé la question.
                """,
            ),
            (
                0,
                "karim.cse",
                """
                Je propose une question pour l'atelier développement local : **comment faire se
                rencontrer l'offre de l'ESS et la demande des CSE ?** On en parle dans un autre
                fil, et le séminaire est le bon endroit pour passer des discussions aux actes.
                Autre question : les élu·es de CSE peuvent-ils venir sur leurs heures de délégation
                ?
                """,
            ),
            (
                3,
                "yannick-ul",
                """
                Les heures de délégation servent à l'exercice du mandat, et leur bon usage est
                présumé : une journée de travail sur les activités sociales et culturelles ou sur
                les conditions de travail entre clairement dans le mandat. Celles et ceux qui
                préfèrent y aller au titre de la formation peuvent aussi demander un congé de
                formation économique, sociale, environnementale et syndicale, au moins 30 jours à
                l'avance.
                """,
            ),
            (
                0,
                "theo.mobilite",
                """
                On organise un covoiturage depuis la Seine-et-Marne : départ de Coulommiers vers 7
                h 45, il reste trois places. Celles et ceux qui viennent de l'est francilien
                peuvent se signaler ici.
                """,
            ),
            (
                5,
                "jb.habitat",
                """
                Nous venons de Villeurbanne en train, à quatre : pas de covoiturage pour nous !
                Mais si d'autres viennent de la région lyonnaise, retrouvons-nous au départ pour
                faire le trajet ensemble et préparer nos questions.
                """,
            ),
            (
                0,
                "elue-montreuil",
                """
                Le lieu est à deux pas de Montreuil : je viendrai avec deux collègues élu·es et, si
                possible, des agent·es de notre maison France services. La plénière sera-t-elle
                retransmise pour celles et ceux qui ne peuvent pas se libérer ?
                """,
            ),
            (
                7,
                "coordination-rs",
                """
                La plénière sera retransmise en direct, puis disponible en vidéo sous-titrée. Les
                ateliers ne seront pas filmés, pour que chacun·e puisse parler librement, mais nous
                publierons ici une synthèse écrite de chacun d'eux.
                """,
            ),
            (
                0,
                "nadia.mediation",
                """
                Voici une première liste de questions issues des autres fils du forum, à compléter
                :

                1. Comment financer sur plusieurs années les postes de médiation et d'accueil ?
                2. Comment suivre les démarches des usager·es entre France services et les
                   organismes, sans trahir leur confiance ?
                3. Quelle place pour les habitant·es dans les projets de rénovation urbaine ?
                4. Comment les collectivités peuvent-elles s'appuyer sur les coopératives sans en
                   faire des sous-traitants ?

                N'hésitez pas à reformuler ou à en ajouter.
                """,
            ),
            (
                9,
                "marc.cc3v",
                """
                Merci Nadia. J'ajouterais une question sur la **coordination des services
                itinérants** : bus France services, transport à la demande, tournées des
                soignant·es… Dans le rural, chacun roule de son côté et les usager·es doivent
                jongler entre les calendriers.
                """,
            ),
        ],
    ),
    # -- Urbain -------------------------------------------------------------------------------
    (
        "urbain",
        "fatou-regie",
        "Régies de quartier : comment faire reconnaître notre travail par les bailleurs ?",
        """
        Une régie de quartier, c'est une association qui réunit habitant·es, collectivité et
        bailleurs sociaux pour prendre soin du quartier : entretien des halls et des espaces verts,
        petits travaux, médiation… et emploi d'habitant·es, souvent en parcours d'insertion.

        Notre problème : le bailleur principal remet ses marchés en concurrence tous les trois ans,
        et à chaque fois la discussion se résume au **prix de l'heure de ménage**. Tout ce que nous
        faisons en plus ne compte pas :

        - l'agent d'entretien qui connaît les personnes âgées isolées et donne l'alerte ;
        - les jeunes du quartier embauché·es, formé·es, accompagné·es vers un emploi durable ;
        - les conflits de voisinage désamorcés avant qu'ils ne dégénèrent ;
        - la présence, tout simplement, à des heures où plus personne n'est là.

        Comment faites-vous reconnaître cette valeur dans vos quartiers ? Certains bailleurs
        ont-ils trouvé d'autres façons de contractualiser ?
        """,
        [
            (
                0,
                "elue-montreuil",
                """
                Du côté de la ville, on peut peser dans la **gestion urbaine de proximité** : c'est
                là que se retrouvent bailleurs, ville et associations pour parler de la vie
                quotidienne du quartier. Nous avons aussi introduit des clauses sociales dans nos
                propres marchés d'entretien. Mais je reconnais que ça ne répond pas à tout ce que
                vous décrivez.
                """,
            ),
            (
                1,
                "fatou-regie",
                """
                Les clauses sociales sont utiles, mais elles comptent des heures d'insertion, pas
                du lien. Ce que nous aimerions, c'est que les bailleurs utilisent les **marchés
                réservés** aux structures d'insertion, que permet le code de la commande publique,
                plutôt que des appels d'offres où l'on nous compare à des entreprises de propreté.
                """,
            ),
            (
                2,
                "camille-scop",
                """
                Nous avons déjà répondu à un marché réservé, en groupement avec une entreprise
                d'insertion, pour de la petite menuiserie dans des logements sociaux. Ça marche,
                mais il faut que l'acheteur découpe le marché en lots de la bonne taille : si le
                lot est trop gros, aucune structure de l'ESS ne peut répondre seule.
                """,
            ),
            (
                0,
                "nadia.mediation",
                """
                En tant qu'habitante et bénévole, je confirme : les salarié·es de la régie sont les
                premier·es à remarquer qu'une voisine âgée n'a pas ouvert ses volets depuis deux
                jours. Aucun tableau de bord ne compte ça. Pourtant, pendant la canicule de l'été
                dernier, ce sont eux qui ont fait le tour des étages.
                """,
            ),
            (
                4,
                "fatou-regie",
                """
                Nous essayons de le rendre visible avec un cahier de signalements : chaque alerte
                transmise au CCAS ou au bailleur y est notée. Mais je suis mal à l'aise avec l'idée
                de « compter » les gens. Nous ne voulons pas devenir des surveillants.
                """,
            ),
            (
                5,
                "nadia.mediation",
                """
                Et tu as raison de l'être. Une piste : faire l'évaluation **avec les habitant·es**
                plutôt que sur eux. Dans notre association, nous avons organisé des balades de
                quartier où les habitant·es racontaient ce que la régie change pour eux. Ça a fait
                plus d'effet sur le bailleur que n'importe quel tableau.
                """,
            ),
            (
                0,
                "yannick-ul",
                """
                Une question plus syndicale, sans agressivité : quelles sont les conditions de
                travail et de salaire dans les régies ? On voit parfois des structures de l'ESS où
                l'engagement pour le projet sert à justifier des salaires bas et des temps partiels
                subis.
                """,
            ),
            (
                7,
                "fatou-regie",
                """
                La question est légitime. La plupart de nos salarié·es sont au SMIC ou juste
                au-dessus, beaucoup à temps partiel, parce que les marchés sont payés à l'heure.
                Nous appliquons la convention collective des régies de quartier et nous avons un
                CSE. Environ la moitié des personnes en insertion trouvent ensuite un emploi ou une
                formation : c'est bien, ce n'est pas assez, et c'est aussi pour ça que je me bats
                sur les prix.
                """,
            ),
            (
                8,
                "yannick-ul",
                """
                Merci pour cette réponse franche. Si votre CSE a besoin d'appui pour les
                négociations annuelles, l'union locale est là. Et nous pouvons aussi vous soutenir
                face au bailleur : des prix tirés vers le bas, ce sont des salaires tirés vers le
                bas.
                """,
            ),
        ],
    ),
    (
        "urbain",
        "nadia.mediation",
        "Rénovation des quartiers : les habitant·es ont-ils vraiment voix au chapitre ?",
        """
        Notre quartier est entré dans le programme de renouvellement urbain il y a cinq ans. Deux
        tours vont être démolies, d'autres réhabilitées, et une « maison du projet » a ouvert au
        pied des immeubles. Sur le papier, la concertation est exemplaire : réunions publiques,
        ateliers, balades urbaines.

        Pourtant, voilà ce que m'a dit une voisine à la sortie du dernier atelier :

        > On nous a demandé notre avis sur la couleur des bancs, pas sur la démolition de notre
          tour.

        Les grandes décisions (démolir, reloger, céder une partie du foncier à des promoteurs) ont
        été prises avant que la concertation commence. Je ne dis pas que tout est mauvais : les
        logements réhabilités sont mieux isolés et les charges ont baissé. Mais je voudrais qu'on
        parle franchement de la **place réelle des habitant·es** dans ces projets. Où passe la
        frontière entre consultation et décision partagée ?
        """,
        [
            (
                0,
                "elue-montreuil",
                """
                Je vais répondre en élue, sans langue de bois. Dans les programmes de
                renouvellement urbain, les grandes lignes (démolitions, financements) sont arrêtées
                très tôt avec l'État et les bailleurs ; la marge de manœuvre qui reste ensuite est
                réelle, mais limitée. Nous avons essayé de l'élargir en associant le conseil
                citoyen au comité de pilotage. Ça reste insuffisant, je le sais.
                """,
            ),
            (
                1,
                "nadia.mediation",
                """
                Merci pour cette franchise. Alors, question concrète : seriez-vous prête à financer
                un **contre-projet porté par les habitant·es**, avec une équipe d'architectes ou
                d'urbanistes choisie par eux et payée par la ville, pour que les alternatives
                soient étudiées sérieusement ?
                """,
            ),
            (
                2,
                "elue-montreuil",
                """
                Nous l'avons fait une fois, pour une barre dont la démolition était contestée.
                L'association a choisi une équipe d'architectes et la ville a payé l'étude. Le
                bâtiment a finalement été réhabilité plutôt que démoli. Ce n'est pas toujours
                possible, mais je pense que ça devrait devenir la règle quand une démolition est
                contestée.
                """,
            ),
            (
                3,
                "jb.habitat",
                """
                C'est une belle histoire, et elle rejoint ce que nous avons vécu à Villeurbanne :
                un projet porté par des habitant·es, avec du temps et de l'expertise, aboutit
                souvent à des solutions que personne n'avait imaginées. Notre coopérative est née
                d'un groupe qui refusait de quitter le quartier. Les habitant·es ne sont pas des «
                publics à concerter » : ce sont des gens qui savent des choses.
                """,
            ),
            (
                0,
                "fatou-regie",
                """
                Côté régie, le chantier de rénovation a été une occasion : les clauses d'insertion
                ont permis d'embaucher onze habitant·es du quartier sur le chantier, et quatre ont
                été gardé·es par les entreprises. Quand les gens voient leurs voisin·es travailler
                sur leurs immeubles, le regard sur le projet change.
                """,
            ),
            (
                5,
                "yannick-ul",
                """
                Je me méfie un peu des clauses d'insertion sur les gros chantiers : dans les faits,
                les heures sont souvent confiées à des sous-traitants en cascade, avec des contrats
                très courts et peu de formation. Dans votre cas, qui employait les habitant·es ?
                """,
            ),
            (
                6,
                "fatou-regie",
                """
                Justement, c'est la régie qui les employait et les mettait à disposition des
                entreprises. C'est ce qui permet un vrai accompagnement : un référent, une
                formation sécurité, un suivi après la fin du chantier. Sans une structure comme la
                nôtre au milieu, je partage tes craintes.
                """,
            ),
            (
                0,
                "lucie-tierslieu",
                """
                Une expérience d'une autre nature : pendant les années qui précèdent une
                démolition, les bâtiments vides peuvent accueillir de l'**urbanisme transitoire**
                (ateliers, tiers-lieu, jardin partagé). Ça évite que le quartier se vide de toute
                vie pendant le chantier.
                """,
            ),
            (
                8,
                "nadia.mediation",
                """
                À condition que ces lieux soient ouverts aux habitant·es actuel·les, et pas
                seulement aux artistes et aux associations venus d'ailleurs. Chez nous, le lieu
                transitoire a surtout servi à « changer l'image » du quartier auprès des futurs
                acheteurs. Qui en profite, au bout du compte ?
                """,
            ),
        ],
    ),
    (
        "urbain",
        "jb.habitat",
        "Coopératives d'habitants : notre retour d'expérience, trois ans après",
        """
        Il y a trois ans, nous avons emménagé dans notre coopérative d'habitants à Villeurbanne :
        14 logements, une salle commune, une buanderie, deux chambres d'amis partagées et un
        jardin. Le principe : l'immeuble appartient à la coopérative, chaque foyer détient des
        parts sociales et paie une redevance mensuelle. Personne ne peut revendre avec une
        plus-value : le logement reste **hors de la spéculation**.

        Ce qui marche :

        - des redevances inférieures aux loyers du quartier, et stables ;
        - une vraie vie collective, sans obligation de tout partager ;
        - des décisions prises ensemble : une personne, une voix.

        Ce qui est difficile :

        - le montage financier, qui a pris quatre ans ;
        - le temps militant, qui pèse sur quelques-un·es ;
        - la diversité sociale, que nous n'avons pas atteinte autant que nous l'espérions.

        Pour en savoir plus sur le modèle, la fédération Habicoop fait un travail remarquable :
        [habicoop.fr](https://www.habicoop.fr). Je réponds volontiers à vos questions.
        """,
        [
            (
                0,
                "sophie.mutuelle",
                """
                Merci pour ce partage très concret. Comment avez-vous financé le projet ? Je me
                demande si le montant des parts sociales n'exclut pas d'emblée les ménages
                modestes.
                """,
            ),
            (
                1,
                "jb.habitat",
                """
                Les parts vont de 5 000 à 40 000 € selon les foyers, et les redevances sont
                ajustées en conséquence. L'essentiel du financement vient d'un prêt sur trente ans
                d'une banque coopérative. Surtout, quatre logements sont portés par un bailleur
                social : leurs locataires paient un loyer de logement social et sont membres de la
                coopérative comme les autres.
                """,
            ),
            (
                2,
                "elue-montreuil",
                """
                Les collectivités ont un levier important : le **foncier**. Nous travaillons avec
                un organisme de foncier solidaire : il garde la propriété du terrain, et les
                ménages n'achètent ou ne louent que le bâti, ce qui fait fortement baisser le coût.
                Ce serait compatible avec une coopérative d'habitants ?
                """,
            ),
            (
                3,
                "jb.habitat",
                """
                Tout à fait, et plusieurs projets en France combinent déjà coopérative d'habitants
                et bail réel solidaire. Nous n'avions pas cette possibilité à l'époque ; elle nous
                aurait fait gagner deux ans de montage et des dizaines de milliers d'euros. Si
                votre ville lance un appel à projets sur ce modèle, je serais curieux de le lire.
                """,
            ),
            (
                0,
                "nadia.mediation",
                """
                Je vais poser la question qui fâche un peu : les coopératives d'habitants que je
                connais rassemblent surtout des enseignant·es, des travailleur·ses sociaux, des
                ingénieur·es… des gens qui ont le temps et les codes pour porter un projet pendant
                quatre ans. Comment l'ouvrir aux habitant·es des quartiers populaires ?
                """,
            ),
            (
                5,
                "jb.habitat",
                """
                Tu as raison, et nous en parlons souvent entre nous. Notre groupe de départ était
                très homogène, je ne vais pas prétendre le contraire. Les quatre logements sociaux
                ont changé les choses, mais il faudrait aller plus loin : des projets accompagnés
                par des professionnel·les dès le départ, pour que le temps militant ne soit plus un
                filtre.
                """,
            ),
            (
                6,
                "fatou-regie",
                """
                Une idée : s'appuyer sur les structures déjà présentes dans les quartiers, comme
                les régies ou les centres sociaux, pour faire connaître le modèle. Beaucoup de
                familles que nous connaissons rêvent d'un logement qui leur appartienne un peu,
                mais n'ont jamais entendu parler de coopérative d'habitants.
                """,
            ),
            (
                0,
                "camille-scop",
                """
                Pour la gouvernance, je retrouve beaucoup de points communs avec notre SCOP : une
                personne, une voix, quel que soit l'apport. Comment gérez-vous les désaccords ?
                Chez nous, les conflits les plus durs ne portent jamais sur les grandes décisions,
                mais sur les petites choses du quotidien.
                """,
            ),
            (
                8,
                "jb.habitat",
                """
                Pareil chez nous ! La buanderie a suscité plus de débats que le prêt bancaire. Nous
                décidons **au consentement** : une proposition est adoptée si personne n'a
                d'objection argumentée. C'est plus long qu'un vote, mais il n'y a pas de minorité
                frustrée. Et une commission de médiation interne intervient quand ça coince entre
                deux foyers.
                """,
            ),
            (
                9,
                "camille-scop",
                """
                Nous utilisons aussi le consentement pour certaines décisions. Un conseil tiré de
                nos quinze ans d'expérience : faites tourner les rôles tous les deux ans. Sinon, ce
                sont toujours les mêmes qui portent tout, et ce sont les mêmes qui s'épuisent.
                """,
            ),
        ],
    ),
    (
        "urbain",
        "elue-montreuil",
        "Tiers-lieux de quartier : lieux de lien ou vitrines de la gentrification ?",
        """
        Dans un ancien garage municipal, la ville soutient depuis deux ans un tiers-lieu : atelier
        de réparation, café, espace de travail partagé, salle pour les associations. Le lieu est
        géré par une SCIC dont la ville est sociétaire.

        Le succès est là, mais une critique revient : le lieu attirerait surtout des **jeunes
        actifs diplômés** venus d'ailleurs, et participerait à la hausse des loyers du quartier. Je
        ne sais pas trop quoi en penser. Un tiers-lieu peut-il vraiment être un lieu de lien pour
        tout le quartier, ou est-il condamné à devenir la vitrine d'une transformation qui exclut ?
        """,
        [
            (
                0,
                "nadia.mediation",
                """
                Quelques indices simples pour savoir à qui profite un lieu : combien coûte un café
                ? Qui est derrière le comptoir ? Les habitant·es du quartier sont-ils dans la
                gouvernance ? Si le café est à 3,50 € et que l'équipe vient entièrement d'ailleurs,
                on a déjà la réponse.
                """,
            ),
            (
                1,
                "elue-montreuil",
                """
                Le café est à prix libre le matin, mais je reconnais que l'équipe salariée ne vient
                pas du quartier. La SCIC a un collège des habitant·es, mais il ne compte qu'une
                dizaine de membres, presque tous arrivés récemment.
                """,
            ),
            (
                2,
                "lucie-tierslieu",
                """
                Dans notre tiers-lieu rural, le collège des habitant·es est devenu vivant le jour
                où nous avons confié l'atelier de réparation à un groupe de retraités du village.
                Ils ont fait venir leurs voisins, qui ne seraient jamais entrés autrement. Il faut
                **donner les clés**, au sens propre, et pas seulement un siège au conseil.
                """,
            ),
            (
                0,
                "fatou-regie",
                """
                Je vais être directe : nos salarié·es passent devant ce genre de lieux tous les
                jours, et ils n'y entrent pas. Pas parce que c'est interdit, mais parce qu'ils ne
                s'y sentent pas chez eux. La musique, la décoration, les prix, les mots sur les
                affiches : tout dit « ce n'est pas pour vous ».
                """,
            ),
            (
                4,
                "elue-montreuil",
                """
                C'est dur à entendre, mais c'est précieux. Qu'est-ce qui, selon toi, ferait changer
                ça ?
                """,
            ),
            (
                5,
                "fatou-regie",
                """
                Trois choses : embaucher des gens du quartier, y compris à la coordination ; ouvrir
                à des horaires où celles et ceux qui travaillent tôt peuvent venir ; et demander
                aux habitant·es ce qu'ils voudraient y faire, au lieu de leur proposer un programme
                déjà écrit. Chez nous, les femmes du quartier demandent depuis des années une
                cuisine partagée.
                """,
            ),
            (
                0,
                "theo.mobilite",
                """
                Une remarque depuis le périurbain : ces lieux se concentrent en ville et dans les
                bourgs-centres bien desservis. Pour beaucoup d'entre nous, la question n'est pas de
                savoir si l'on s'y sent chez soi, mais de pouvoir y aller sans voiture après 19 h.
                """,
            ),
        ],
    ),
    # -- Développement local ------------------------------------------------------------------
    (
        "developpement-local",
        "marc.cc3v",
        "Développement local : les coopératives, un outil pour les collectivités ?",
        """
        Dans notre communauté de communes, plusieurs projets de **développement local** naissent
        sous forme de coopératives, et les élu·es me demandent comment s'y impliquer :

        - une centrale photovoltaïque citoyenne sur les toits des écoles ;
        - la reprise du dernier café-épicerie d'un village de 300 habitant·es ;
        - une ressourcerie qui emploierait des personnes en insertion.

        La **SCIC** (société coopérative d'intérêt collectif) semble adaptée : elle associe
        salarié·es, usager·es, bénévoles et collectivités, et depuis la loi ESS de 2014 les
        collectivités peuvent détenir jusqu'à 50 % de son capital.

        Mes questions : quel rôle donner à la collectivité sans qu'elle prenne toute la place ?
        Comment éviter que la coopérative dépende entièrement des subventions ? Quels pièges
        avez-vous rencontrés ? Vos retours sur les coopératives et le développement local
        m'intéressent beaucoup.
        """,
        [
            (
                0,
                "camille-scop",
                """
                La SCIC est un très bon outil, à condition de la penser comme une coopérative et
                pas comme un service municipal déguisé. Sa force, c'est le **multisociétariat** :
                chaque partie prenante a sa place et sa voix. Mon premier conseil : associer dès le
                départ les futur·es salarié·es et usager·es à l'écriture des statuts, pas seulement
                au moment de la souscription.
                """,
            ),
            (
                1,
                "marc.cc3v",
                """
                Comment fonctionnent les collèges de vote en pratique ? Les élu·es craignent de se
                retrouver minoritaires sur des décisions qui engagent de l'argent public, et les
                habitant·es craignent l'inverse.
                """,
            ),
            (
                2,
                "camille-scop",
                """
                Les statuts peuvent prévoir des collèges pesant chacun entre 10 et 50 % des voix en
                assemblée générale, quel que soit le nombre de membres. Par exemple : 30 % pour les
                salarié·es, 30 % pour les usager·es, 20 % pour les collectivités, 20 % pour les
                partenaires. Personne ne peut décider seul, et c'est voulu : ça oblige à construire
                des compromis.
                """,
            ),
            (
                3,
                "lucie-tierslieu",
                """
                Notre tiers-lieu est une SCIC de 180 sociétaires, avec la commune dans le collège
                des collectivités. Un vrai point d'attention : les **changements de majorité**.
                Après les municipales, la nouvelle équipe s'est demandé ce que la commune faisait
                là, et il a fallu tout réexpliquer.
                """,
            ),
            (
                4,
                "marc.cc3v",
                """
                C'est précisément ce que craignent mes élu·es, dans l'autre sens : s'engager et
                être désavoué·es au mandat suivant. Comment vous êtes-vous protégés ?
                """,
            ),
            (
                5,
                "lucie-tierslieu",
                """
                En ne dépendant jamais d'une seule source : les subventions représentent
                aujourd'hui moins d'un tiers de notre budget, le reste vient du café, de la
                location d'ateliers et des prestations. Et en invitant systématiquement
                l'opposition municipale aux assemblées générales. Un projet que tout le monde
                connaît est plus difficile à lâcher.
                """,
            ),
            (
                0,
                "yannick-ul",
                """
                Je pose une question qui fâche : quand une collectivité confie à une coopérative ce
                qu'elle faisait elle-même, n'est-ce pas une forme douce de privatisation ? Je pense
                aux agent·es qui pourraient voir leurs missions transférées vers des structures aux
                conditions moins protectrices.
                """,
            ),
            (
                7,
                "camille-scop",
                """
                Le risque existe si la collectivité s'en sert pour faire des économies. Mais une
                SCIC n'est pas une entreprise comme les autres : au moins 57,5 % des bénéfices vont
                dans des réserves impartageables, personne ne s'enrichit en revendant ses parts, et
                les salarié·es sont associé·es. Dans les projets que décrit Marc, il ne s'agit pas
                de remplacer un service existant, mais de créer ce qui n'existe pas ou plus.
                """,
            ),
            (
                8,
                "yannick-ul",
                """
                Pour la création de nouvelles activités, c'est convaincant. Restons vigilants pour
                le reste. Question pratique : quelle convention collective s'applique aux
                salarié·es d'une SCIC ? C'est souvent là que tout se joue.
                """,
            ),
            (
                9,
                "camille-scop",
                """
                Celle de la branche de l'activité principale, comme pour n'importe quelle
                entreprise : une ressourcerie, un café et un producteur d'énergie n'auront pas la
                même. Certaines SCIC choisissent d'appliquer volontairement une convention plus
                favorable ; ça vaut la peine d'en discuter dès le départ avec les syndicats du
                territoire.
                """,
            ),
            (
                0,
                "elue-montreuil",
                """
                En ville aussi, nous avons une SCIC de production d'énergie solaire sur les toits
                des équipements publics, avec plus de 300 habitant·es sociétaires. L'électricité
                produite compte moins que ce qu'elle a créé : des gens qui ne se connaissaient pas
                se retrouvent pour parler d'énergie et de leur quartier.
                """,
            ),
            (
                0,
                "sophie.mutuelle",
                """
                Une autre piste pour le rural : les **centres de santé en SCIC**, avec des médecins
                salarié·es, et la collectivité et des mutuelles comme sociétaires. Notre mutuelle
                en accompagne deux, dans des territoires où plus aucun médecin libéral ne voulait
                s'installer.
                """,
            ),
            (
                12,
                "marc.cc3v",
                """
                C'est exactement notre situation : deux médecins partent à la retraite l'an
                prochain sans successeur. Combien de temps faut-il pour monter un projet comme
                celui-là ?
                """,
            ),
            (
                13,
                "sophie.mutuelle",
                """
                Comptez environ deux ans entre les premières réunions et l'ouverture, dont une
                bonne partie pour recruter les professionnel·les de santé : le salariat attire les
                jeunes médecins, mais il faut un projet de santé solide et une équipe. Je vous
                envoie les coordonnées des deux centres ; leurs équipes aiment partager leur
                expérience.
                """,
            ),
        ],
    ),
    (
        "developpement-local",
        "karim.cse",
        "CSE et ESS : faire se rencontrer l'offre de l'économie sociale et la demande des comités",
        """
        Notre CSE gère un budget d'activités sociales et culturelles pour environ 1 200 salarié·es.
        Aujourd'hui, l'essentiel part vers de grandes plateformes : chèques cadeaux, billetterie,
        voyages. C'est pratique, mais l'argent des salarié·es finit loin de notre territoire, et
        parfois chez des entreprises qui ne respectent pas grand-chose.

        Nous voudrions orienter une partie de ce budget vers l'**économie sociale et solidaire** :
        tourisme social, coopératives, librairies indépendantes, producteurs locaux. Mais en
        pratique, on bute sur :

        - l'absence de catalogue : on ne sait pas qui fait quoi près de chez nous ;
        - la gestion : les élu·es sont bénévoles et n'ont pas le temps de traiter avec cinquante
          petits fournisseurs ;
        - les attentes des collègues, habitué·es à la simplicité des plateformes.

        L'offre existe, la demande aussi : **comment les faire se rencontrer ?**
        """,
        [
            (
                0,
                "camille-scop",
                """
                Côté offre, je peux vous dire que nous non plus ne savons pas parler aux CSE ! Nous
                ne savons même pas qui contacter, ni quand les budgets se décident. Une idée : un
                **catalogue commun** par territoire, porté par les acteurs de l'ESS, avec un seul
                interlocuteur pour les CSE et une seule facture.
                """,
            ),
            (
                1,
                "karim.cse",
                """
                Un guichet unique, c'est exactement ce qu'il nous faut. Si en plus les bons d'achat
                pouvaient être utilisés dans un réseau de commerces coopératifs et indépendants du
                territoire, on répondrait à la fois à l'envie de choix des collègues et à notre
                envie de faire vivre le territoire.
                """,
            ),
            (
                2,
                "lucie-tierslieu",
                """
                Ça existe déjà dans certains territoires avec les **monnaies locales
                complémentaires** : des CSE versent une partie de leurs bons d'achat en monnaie
                locale, utilisable uniquement chez des commerçant·es et producteur·rices agréé·es.
                Chez nous, trois CSE l'ont fait l'an dernier, et les commerces ont vu arriver de
                nouveaux clients.
                """,
            ),
            (
                3,
                "yannick-ul",
                """
                Attention à bien respecter les règles de l'Urssaf sur les bons d'achat, pour qu'ils
                ne soient pas soumis à cotisations : montant plafonné, ou lien avec un événement
                précis (Noël, rentrée scolaire, naissance…). Une monnaie locale peut entrer dans ce
                cadre, mais faites valider le montage avant de vous lancer.
                """,
            ),
            (
                0,
                "sophie.mutuelle",
                """
                N'oublions pas le **tourisme social et associatif** : beaucoup de villages vacances
                associatifs ont été construits avec les comités d'entreprise, dans les années 1960
                et 1970. Aujourd'hui, nombre d'entre eux sont en difficulté, parce que les CE puis
                les CSE se sont tournés vers les plateformes. C'est une part de notre patrimoine
                commun qui disparaît.
                """,
            ),
            (
                5,
                "karim.cse",
                """
                Je suis d'accord sur le fond, mais il faut aussi entendre les collègues : ils
                veulent choisir leurs dates, réserver en ligne, partir parfois à l'étranger. Si
                l'offre de l'ESS veut retrouver les CSE, elle doit aussi se moderniser. Ce n'est
                pas un reproche, c'est une condition.
                """,
            ),
            (
                6,
                "coordination-rs",
                """
                Ce dialogue entre l'offre et la demande est au cœur du projet du réseau, et il aura
                sa place dans l'atelier « Développement local » du séminaire du 31 mars. Karim et
                Camille, seriez-vous d'accord pour l'ouvrir ensemble, chacun·e de son côté de la
                table ?
                """,
            ),
            (
                7,
                "camille-scop",
                """
                Avec plaisir ! Je viendrai avec le catalogue de quelques coopératives de la Drôme,
                pour que ce soit concret dès le départ.
                """,
            ),
            (
                0,
                "marc.cc3v",
                """
                Les collectivités peuvent jouer un rôle d'**intermédiaire** : beaucoup
                d'intercommunalités ont un service économique qui connaît toutes les structures de
                l'ESS du territoire. Nous pourrions organiser une rencontre annuelle entre CSE et
                acteurs de l'ESS, un peu comme un salon, mais à taille humaine.
                """,
            ),
            (
                9,
                "karim.cse",
                """
                J'y viendrais volontiers, et je peux mobiliser les CSE des entreprises de transport
                de l'agglomération. Il faudrait l'organiser en fin de journée ou sur la pause
                déjeuner : les élu·es de CSE ont un travail à côté de leur mandat.
                """,
            ),
        ],
    ),
    (
        "developpement-local",
        "lucie-tierslieu",
        "Circuits courts : faire entrer les producteurs locaux dans les cantines",
        """
        Avec le tiers-lieu, nous avons monté une **légumerie** : un atelier où l'on lave, épluche
        et découpe les légumes des maraîcher·es du coin pour les cantines scolaires et l'EHPAD du
        canton. Un outil simple, qui manquait pour que les producteur·rices locaux puissent vendre
        à la restauration collective.

        La loi EGalim fixe des objectifs (50 % de produits durables et de qualité, dont 20 % de
        bio), mais sur le terrain :

        1. les marchés publics restent pensés pour de grosses entreprises ;
        2. la logistique coûte cher pour de petits volumes ;
        3. beaucoup de cuisines ont perdu l'habitude de travailler des produits bruts.

        Quelles solutions avez-vous trouvées sur vos territoires ?
        """,
        [
            (
                0,
                "marc.cc3v",
                """
                Côté marchés publics, il y a des marges : découper les marchés en **petits lots**
                (par produit, par saison), utiliser des critères de performance environnementale et
                d'approvisionnement direct. Notre service achats a aussi allégé les dossiers pour
                que les producteur·rices puissent répondre sans y passer des jours. Ça a changé
                beaucoup de choses.
                """,
            ),
            (
                1,
                "lucie-tierslieu",
                """
                C'est vrai, mais même avec des petits lots, un maraîcher seul ne peut pas garantir
                80 kg de carottes tous les mardis. Il faut une organisation collective pour
                mutualiser la production et la livraison.
                """,
            ),
            (
                2,
                "camille-scop",
                """
                C'est ce qu'a fait une SCIC près de chez nous : une plateforme qui regroupe trente
                producteur·rices, répond aux marchés au nom de tous et organise la livraison. Les
                cantines ont un seul fournisseur, les producteur·rices gardent la maîtrise de leurs
                prix. C'est de la coopération au service du développement local, au sens le plus
                concret.
                """,
            ),
            (
                0,
                "karim.cse",
                """
                Même question pour les restaurants d'entreprise : notre cantine est gérée par un
                grand groupe de restauration collective, et la qualité a beaucoup baissé. Un CSE
                peut-il peser sur l'origine des produits ?
                """,
            ),
            (
                4,
                "lucie-tierslieu",
                """
                Oui, surtout si le restaurant est géré par le CSE ou si le CSE participe au choix
                du prestataire : le cahier des charges peut imposer une part de produits locaux et
                de saison. Même quand c'est l'employeur qui décide, le CSE peut porter la demande
                des salarié·es.
                """,
            ),
            (
                5,
                "karim.cse",
                """
                Je vais le proposer à la prochaine réunion. Les collègues qui font les services du
                matin mangent là tous les jours : c'est une question de santé au travail autant que
                de développement local.
                """,
            ),
            (
                0,
                "nadia.mediation",
                """
                Une inquiétude : si la qualité monte, le prix du repas monte aussi. Pour des
                familles modestes de mon quartier, la cantine est parfois le seul repas complet de
                la journée pour les enfants. Comment faire pour que le bio et le local ne
                deviennent pas un luxe ?
                """,
            ),
            (
                7,
                "elue-montreuil",
                """
                Avec une **tarification sociale** selon le quotient familial, la cantine reste
                accessible aux familles modestes même quand le coût du repas augmente. L'État aide
                d'ailleurs les petites communes rurales qui proposent des tarifs très bas aux
                familles les plus pauvres. La qualité ne doit pas se payer en excluant.
                """,
            ),
        ],
    ),
    (
        "developpement-local",
        "camille-scop",
        "Reprendre le dernier commerce du village en coopérative : notre expérience",
        """
        Il y a deux ans, l'épicerie-café de notre village de la Drôme a fermé : le gérant partait à
        la retraite et personne ne voulait reprendre. Avec une vingtaine d'habitant·es, nous avons
        décidé de la reprendre en **SCIC**.

        Comment nous nous y sommes pris :

        - la commune a racheté les murs et nous les loue à un loyer modéré ;
        - 240 sociétaires ont acheté des parts à 50 € (certain·es en ont pris bien plus) ;
        - une banque coopérative et un prêt d'honneur ont complété le financement ;
        - deux salariées à temps plein, plus une équipe de bénévoles pour les animations.

        Aujourd'hui, le lieu fait épicerie, café, relais poste et dépôt de pain, et accueille un
        marché de producteurs le vendredi soir. Il n'est pas encore rentable, mais il s'en
        approche.

        Si vous avez un projet semblable, je peux partager nos statuts et nos erreurs (il y en a eu
        !).
        """,
        [
            (
                0,
                "marc.cc3v",
                """
                Merci Camille, c'est exactement le genre de projet sur lequel mes élu·es hésitent.
                Comment la commune a-t-elle justifié l'achat des murs auprès des habitant·es qui ne
                fréquentent pas l'épicerie ?
                """,
            ),
            (
                1,
                "camille-scop",
                """
                Le maire l'a présenté comme un investissement dans un bien commun, au même titre
                que la salle des fêtes : un lieu qui fait vivre le village. Et les murs restent à
                la commune : si la coopérative s'arrête, le bâtiment n'est pas perdu. Il y a eu un
                vrai débat en conseil municipal, mais le vote a été unanime.
                """,
            ),
            (
                0,
                "jb.habitat",
                """
                C'est le même esprit que notre coopérative d'habitants : reprendre collectivement
                ce que le marché abandonne. Comment équilibrez-vous le travail salarié et le
                bénévolat ? Chez nous, c'est la source de tensions la plus fréquente.
                """,
            ),
            (
                3,
                "camille-scop",
                """
                C'est notre grand sujet aussi. Au début, les bénévoles tenaient la caisse le
                dimanche, et au bout d'un an plusieurs étaient épuisé·es. Maintenant la règle est
                claire : le cœur de l'activité est assuré par les salariées, les bénévoles
                s'occupent des animations et du marché.
                """,
            ),
            (
                4,
                "yannick-ul",
                """
                C'est une bonne règle, et je la défendrais partout : le bénévolat ne doit jamais
                remplacer un emploi. Sinon on crée un modèle qui ne tient que grâce au travail
                gratuit, et qui s'effondre quand les bénévoles fatiguent.
                """,
            ),
            (
                5,
                "camille-scop",
                """
                D'accord avec toi. Nous avons même inscrit dans notre règlement intérieur que toute
                nouvelle activité régulière doit être budgétée en heures salariées avant d'être
                lancée. Ça nous a fait renoncer à certaines idées, mais c'est plus honnête.
                """,
            ),
            (
                0,
                "lucie-tierslieu",
                """
                Votre lieu ressemble beaucoup au nôtre ! Avez-vous envisagé d'accueillir une
                permanence France services ou un point numérique ? Ça fait venir d'autres publics
                et ça apporte une petite recette de location. Nous en parlons dans le fil sur
                France services, côté Services publics.
                """,
            ),
        ],
    ),
]

#: A line break inside a paragraph: not before a blank line, a list item or a quoted line.
_SOFT_BREAK = re.compile(r"(?<!\n)\n(?!\n|[-*>] |\d+\. ) *")


def _markdown(text: str) -> str:
    """A text block as a member would type it: dedented, each paragraph on one line."""
    return _SOFT_BREAK.sub(" ", textwrap.dedent(text).strip())


def _spread_over_weeks(thread: Thread, rng: random.Random, now: datetime) -> None:
    """Date the thread's posts over the past weeks, increasing in path order."""
    posts = (
        db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.path))
        .scalars()
        .all()
    )
    start = now - timedelta(days=rng.uniform(6, 45), minutes=rng.uniform(0, 600))
    span = (now - start) * rng.uniform(0.5, 0.95)
    offsets = [0.0, *sorted(rng.random() for _ in posts[1:])]
    for post, offset in zip(posts, offsets, strict=True):
        post.created_at = start + span * offset
    thread.created_at = start
    thread.last_post_at = posts[-1].created_at
    thread.last_post_author_id = posts[-1].author_id
    theme = thread.theme
    theme.last_post_at = db.session.execute(
        select(func.max(Thread.last_post_at)).where(Thread.theme_id == theme.id)
    ).scalar_one()
    db.session.commit()


SEMINAR_DESCRIPTION = """
    Une journée pour faire se rencontrer l'économie sociale et solidaire, le mouvement syndical
    et les acteurs des territoires. Le matin en plénière, l'après-midi en ateliers, et une table
    ronde pour conclure.

    Entrée libre sur inscription ; les ateliers ont un nombre de places limité. Les échanges se
    préparent et se poursuivent ici, sur le forum.
"""

#: (title, kind, Paris start "HH:MM", end, room, theme slug, speakers, capacity)
SEMINAR_SESSIONS = [
    ("Plénière d'ouverture : se rencontrer pour agir", "plenary", "09:30", "11:00",
     "Amphithéâtre", "developpement-local",
     "Claire Dumas, Rencontres sociales\nYannick Le Goff, Union locale de Saint-Nazaire", None),
    ("Services publics et collectivités", "workshop", "11:30", "13:00", "Salle Vitruve",
     "services-publics", "Marc Delorme, Communauté de communes des Trois Vallées", 30),
    ("Urbain : habitat et quartiers", "workshop", "11:30", "13:00", "Salle Saint-Blaise",
     "urbain", "Fatou Diallo, Régie de quartier Villette-Quatre-Chemins", 30),
    ("Développement local et économie sociale", "workshop", "14:30", "16:00", "Salle Vitruve",
     "developpement-local", "Camille Roux, SCOP Bois & Compagnie", 30),
    ("Table ronde de clôture : et maintenant ?", "round_table", "16:30", "18:00",
     "Amphithéâtre", "developpement-local",
     "Hélène Martin, Ville de Montreuil\nKarim Haddad, CSE de TransAgglo", None),
]  # fmt: skip


def _seed_seminar(users: dict[str, User], now: datetime) -> None:
    """The seminar of 31 March, its sessions, registrations, minutes and linked threads."""
    from forum.seminars import services as seminars

    year = now.year if (now.month, now.day) < (3, 31) else now.year + 1
    day = datetime(year, 3, 31)

    def at(hhmm: str) -> datetime:
        hours, minutes = map(int, hhmm.split(":"))
        return seminars.from_paris(day.replace(hour=hours, minute=minutes))

    admin = users[ADMIN_USERNAME]
    seminar = seminars.save_seminar(
        admin,
        None,
        title=f"Rencontres sociales {year}",
        description=_markdown(SEMINAR_DESCRIPTION),
        venue="Amphithéâtre Le d'Artagnan",
        address="80 rue de Vitruve, 75020 Paris",
        starts_at=at("09:00"),
        ends_at=at("18:30"),
        capacity=150,
        registration_closes_at=at("00:00"),
        status="published",
    )
    themes = {t.slug: t for t in db.session.execute(select(Theme)).scalars()}
    sessions = []
    for title, kind, start, end, room, slug, speakers, capacity in SEMINAR_SESSIONS:
        sessions.append(
            seminars.save_session(
                admin,
                seminar,
                None,
                title=title,
                kind=kind,
                starts_at=at(start),
                ends_at=at(end),
                room=room,
                theme=themes[slug],
                speakers=speakers,
                description="",
                capacity=capacity,
            )
        )
    workshops = [s.id for s in sessions if s.kind == "workshop"]
    for n, username in enumerate(
        ["camille-scop", "karim.cse", "elue-montreuil", "sophie.mutuelle", "marc.cc3v",
         "fatou-regie", "nadia.mediation"]
    ):  # fmt: skip
        seminars.register(users[username], seminar, [workshops[n % len(workshops)]])
    opening = sessions[0]
    seminars.publish_minutes(
        admin,
        opening,
        _markdown(
            """
            Compte rendu de la réunion préparatoire de la plénière : trois questions retenues
            pour ouvrir la journée.

            - Comment les CSE peuvent-ils faire plus de place à l'économie sociale ?
            - Quels services publics de proximité les coopératives peuvent-elles porter ?
            - Comment associer les habitant·es dès le début des projets ?
            """
        ),
    )
    seminars.open_preparation(
        users["karim.cse"],
        sessions[1],
        "Préparer l'atelier services publics : vos exemples",
        "Avant le 31 mars, partagez ici une expérience de service public tenu ensemble.",
    )
    seminars.open_follow_up(
        admin,
        opening,
        "Suite de la plénière : les trois questions",
        "Les trois questions retenues sont dans le compte rendu. Laquelle vous parle le plus ?",
    )


def seed() -> list[tuple[str, str, str]] | None:
    """Load the demo; return the (username, password, role) created, None if already loaded."""
    if accounts.find_by_login(ADMIN_USERNAME) is not None:
        return None
    rng = random.Random(2026)  # noqa: S311 - demo dates, not secrets
    now = utcnow()
    users: dict[str, User] = {}
    created = []
    for username, role, family, display_name, organisation, territory, bio in USERS:
        password = PASSWORDS[role]
        user = accounts.register(username, f"{username}@exemple.org", password, role=role)
        user.created_at = now - timedelta(days=rng.uniform(60, 400))
        accounts.update_profile(
            user,
            display_name=display_name,
            bio=_markdown(bio),
            family=family.value,
            organisation=organisation,
            territory=territory,
        )
        users[username] = user
        created.append((username, password, role.value))

    for slug, author, title, body, replies in THREADS:
        theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar_one()
        thread = discussions.create_thread(users[author], theme, title, _markdown(body))
        posts: list[Post | None] = [None]  # None stands for the opening post, as in reply()
        for parent, name, text in replies:
            post = discussions.reply(users[name], thread, _markdown(text), parent=posts[parent])
            posts.append(post)
        _spread_over_weeks(thread, rng, now)
    _seed_seminar(users, now)
    directory_demo.seed(users, now)
    return created
